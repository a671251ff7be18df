using Kennel.Contracts;
using Microsoft.Extensions.Primitives;

namespace Kennel.ControlPlane.Http;

/// <summary>
/// Refuses a query string that decodes to a NUL (<c>%00</c>) with 400 <c>invalid_request</c> naming the parameter,
/// before any endpoint sees it: PostgreSQL cannot compare or store NUL, and no parameter needs one. Kestrel already
/// refuses NUL in the path (so in route values) and in headers; JSON and form bodies are checked by
/// <see cref="JsonBody"/> and <see cref="FormBody"/>.
/// </summary>
public sealed class QueryStringGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Only an escape decodes to NUL (Kestrel refuses a raw one), so a query without "%00" costs no parsing.
        if (context.Request.QueryString.Value is { } query && query.Contains("%00", StringComparison.Ordinal))
        {
            RefuseNul(context.Request.Query);
        }
        return next(context);
    }

    /// <summary>Throws 400 <c>invalid_request</c>, naming the field, for the first name or value that holds a NUL.</summary>
    public static void RefuseNul(IEnumerable<KeyValuePair<string, StringValues>> fields)
    {
        foreach (var (name, values) in fields)
        {
            if (name.Contains('\0', StringComparison.Ordinal) || values.Any(value => value?.Contains('\0', StringComparison.Ordinal) == true))
            {
                var bad = new BadText(BadTextKind.Nul, [name]);
                throw ApiProblem.Invalid(bad.Field, bad.Describe(bad.Field));
            }
        }
    }
}
