using Kennel.Contracts;

namespace Kennel.ControlPlane.Http;

/// <summary>
/// The one error type. Services throw it; <see cref="ProblemMiddleware"/> turns it into RFC 9457 problem details with a
/// stable <c>code</c>, and the field at fault when there is one.
/// </summary>
public sealed class ApiProblem(int status, string code, string title, string? detail = null, string? field = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public string? Field { get; } = field;

    /// <summary>The findings behind a refusal that has several; the detail says them in words too.</summary>
    public IReadOnlyList<ProblemReason>? Reasons { get; init; }

    public Problem ToProblem() => new() { Title = Title, Status = Status, Detail = Detail, Code = Code, Field = Field, Reasons = Reasons };

    public static ApiProblem Invalid(string field, string detail) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "The request is not valid.", detail, field);

    public static ApiProblem NotFound(string what, string id) =>
        new(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No such {what}.", $"There is no {what} '{id}' in this workspace.");

    public static ApiProblem Conflict(string code, string detail) =>
        new(StatusCodes.Status409Conflict, code, "The request conflicts with the resource's state.", detail);

    public static ApiProblem Unauthorized(string detail) =>
        new(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "Authentication is required.", detail);

    public static ApiProblem Forbidden(string code, string detail) =>
        new(StatusCodes.Status403Forbidden, code, "The credential may not do this.", detail);
}
