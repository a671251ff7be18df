using System.Text;
using Kennel.Contracts;
using Microsoft.AspNetCore.WebUtilities;

namespace Kennel.ControlPlane.Http;

/// <summary>
/// Reads an <c>application/x-www-form-urlencoded</c> body (the OAuth token, revoke, sign-in and consent posts). Parsed
/// here rather than by <c>ReadFormAsync</c>, whose refusals (a NUL, an over-long field name) are exceptions that name no
/// field: these are 400s naming the field, as <see cref="ApiProblem"/>s the endpoint answers in its own format.
/// </summary>
public static class FormBody
{
    /// <summary>ASP.NET Core's own limit on a form field's name.</summary>
    public const int MaxNameLength = 2048;

    public static async Task<IFormCollection> ReadAsync(HttpRequest request)
    {
        // HasFormContentType admits multipart too, which none of these forms is, and which this reader does not parse.
        if (!string.Equals(request.GetTypedHeaders().ContentType?.MediaType.Value, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiProblem.Invalid("Content-Type", "Send the form as application/x-www-form-urlencoded.");
        }
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var form = QueryHelpers.ParseQuery(await reader.ReadToEndAsync(request.HttpContext.RequestAborted));
        if (form.Keys.FirstOrDefault(name => name.Length > MaxNameLength) is { } tooLong)
        {
            // The field is named by its start: echoing kilobytes of it back helps no one.
            var shown = BadText.Join([$"{tooLong[..32]}…"]);
            throw ApiProblem.Invalid(shown, $"A form field's name may be at most {MaxNameLength} characters; '{shown}' has {tooLong.Length}.");
        }
        QueryStringGuard.RefuseNul(form);
        return new FormCollection(form);
    }
}
