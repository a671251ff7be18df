namespace Kennel.ControlPlane.Http;

/// <summary>
/// Endpoint metadata for endpoints whose clients expect errors in another format than problem details: OAuth's
/// <c>{"error", "error_description"}</c> on the token endpoints, an HTML page on the sign-in pages. An
/// <see cref="ApiProblem"/> thrown there (by <see cref="FormBody"/> or <see cref="QueryStringGuard"/>) is answered
/// with <see cref="Answer"/>.
/// </summary>
public sealed class ProblemFormat(Func<ApiProblem, IResult> answer)
{
    public IResult Answer(ApiProblem problem) => answer(problem);
}
