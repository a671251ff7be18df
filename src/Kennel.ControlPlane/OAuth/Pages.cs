using System.Text;
using System.Text.Encodings.Web;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The login, consent and error pages: plain HTML with labels, headings and native controls, no script. Every value
/// from a request or the store is HTML-encoded.
/// </summary>
public static class Pages
{
    private static readonly Dictionary<string, string> ScopeDescriptions = new(StringComparer.Ordinal)
    {
        ["mcp:read"] = "Read: list and get sessions, history and status",
        ["mcp:chat"] = "Chat: send messages and abort them",
        ["mcp:write"] = "Write: create, change, cancel and delete",
        ["mcp:admin"] = "Admin: servers, workers and the fleet",
    };

    /// <summary>The consent form's record of the scopes it showed: consent counts only for exactly those.</summary>
    public const string ShownScopeField = "shown_scope";

    public static IResult Login(AuthorizationRequest request, string csrf, string clientName, string? error, int status = StatusCodes.Status200OK)
    {
        var body = new StringBuilder()
            .Append("<h1>Sign in to Kennel</h1>")
            .Append("<p>").Append(E(clientName)).Append(" wants to connect to your Kennel account.</p>");
        if (error is not null)
        {
            body.Append("<p role=\"alert\" class=\"error\">").Append(E(error)).Append("</p>");
        }
        body.Append("<form method=\"post\" action=\"/oauth/login\">")
            .Append(Hidden(request, csrf))
            .Append("<p><label for=\"email\">Email</label><br><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required autofocus></p>")
            .Append("<p><label for=\"password\">Password</label><br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>")
            .Append("<p><button type=\"submit\">Sign in</button></p></form>");
        return Page("Sign in", body, status);
    }

    public static IResult Consent(ValidAuthorization authorization, string csrf, IReadOnlyList<string> workspaces, IReadOnlySet<string> granted, IReadOnlySet<string> refused)
    {
        var body = new StringBuilder()
            .Append("<h1>Allow access?</h1>")
            .Append("<p><strong>").Append(E(authorization.Client.Name)).Append("</strong> (client <code>").Append(E(authorization.Client.Id))
            .Append("</code>) asks to use <code>").Append(E(authorization.Resource)).Append("</code> on your behalf.</p>")
            .Append("<p>After you answer, your browser goes to <strong>").Append(E(new Uri(authorization.RedirectUri).Authority)).Append("</strong>.</p>")
            .Append("<form method=\"post\" action=\"/oauth/consent\">")
            .Append(Hidden(authorization.Request, csrf))
            .Append("<input type=\"hidden\" name=\"").Append(ShownScopeField).Append("\" value=\"").Append(E(OAuthScopes.Format(granted))).Append("\">");
        if (workspaces.Count == 1)
        {
            body.Append("<p>Workspace: <strong>").Append(E(workspaces[0])).Append("</strong></p>")
                .Append("<input type=\"hidden\" name=\"workspace\" value=\"").Append(E(workspaces[0])).Append("\">");
        }
        else
        {
            body.Append("<p><label for=\"workspace\">Workspace</label><br><select id=\"workspace\" name=\"workspace\">");
            foreach (var workspace in workspaces)
            {
                body.Append("<option>").Append(E(workspace)).Append("</option>");
            }
            body.Append("</select></p><p>The list below is what your role in <strong>").Append(E(workspaces[0]))
                .Append("</strong> allows. If you choose a workspace where your role allows something else, you are asked again, with that list.</p>");
        }
        body.Append("<h2>It will be able to</h2><ul>");
        foreach (var scope in granted)
        {
            body.Append("<li><code>").Append(E(scope)).Append("</code>: ").Append(E(ScopeDescriptions[scope])).Append("</li>");
        }
        body.Append("</ul>");
        if (refused.Count > 0)
        {
            body.Append("<p>Not granted, because your role does not allow it: ").Append(E(string.Join(' ', refused))).Append("</p>");
        }
        body.Append("<p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> ")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p></form>");
        return Page("Allow access", body, StatusCodes.Status200OK);
    }

    public static IResult Error(string title, string message, int status) =>
        Page(title, new StringBuilder().Append("<h1>").Append(E(title)).Append("</h1><p role=\"alert\">").Append(E(message)).Append("</p>"), status);

    private static string Hidden(AuthorizationRequest request, string csrf)
    {
        var fields = new StringBuilder();
        foreach (var (name, value) in request.Parameters)
        {
            fields.Append("<input type=\"hidden\" name=\"").Append(E(name)).Append("\" value=\"").Append(E(value)).Append("\">");
        }
        return fields.Append("<input type=\"hidden\" name=\"").Append(LoginSessions.CsrfField).Append("\" value=\"").Append(E(csrf)).Append("\">").ToString();
    }

    private static HtmlPage Page(string title, StringBuilder body, int status) => new HtmlPage(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
        $"<title>{E(title)} · Kennel</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}" +
        $".error{{color:#a00}}input,select,button{{font-size:1rem;padding:.4rem}}</style></head><body><main>{body}</main></body></html>", status);

    private static string E(string value) => HtmlEncoder.Default.Encode(value);

    /// <summary>An HTML answer that no one may frame (clickjacking) or cache, running no script.</summary>
    private sealed class HtmlPage(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers["X-Frame-Options"] = "DENY";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            return context.Response.WriteAsync(html, context.RequestAborted);
        }
    }
}
