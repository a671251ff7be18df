using System.Security.Cryptography;
using System.Text;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>
/// The browser side of the login and consent pages: a signed-in session cookie (HttpOnly, SameSite=Lax so it comes
/// along when a client sends the browser to /oauth/authorize, Secure unless the issuer is loopback http) and a CSRF
/// cookie whose value every form must echo (double submit; SameSite=Strict, so another site cannot make the browser send it).
/// </summary>
public sealed class LoginSessions(Database database, OAuthIssuer issuer, TimeProvider time)
{
    public const string SessionCookie = "kennel_session";
    public const string CsrfCookie = "kennel_csrf";
    public const string CsrfField = "csrf";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public async Task<string?> UserIdAsync(HttpContext context)
    {
        if (context.Request.Cookies[SessionCookie] is not { Length: > 0 and < 100 } value)
        {
            return null;
        }
        return await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT user_id FROM login_sessions WHERE id_hash = @hash AND expires_at > @now",
            new { hash = OAuthSecrets.Hash(value), now = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: context.RequestAborted)),
            context.RequestAborted);
    }

    public async Task StartAsync(HttpContext context, string userId)
    {
        var value = OAuthSecrets.New();
        var now = time.GetUtcNow();
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO login_sessions (id_hash, user_id, created_at, expires_at) VALUES (@hash, @userId, @now, @expires)",
            new { hash = OAuthSecrets.Hash(value), userId, now = now.ToUnixTimeMilliseconds(), expires = (now + Lifetime).ToUnixTimeMilliseconds() },
            transaction, cancellationToken: context.RequestAborted)), context.RequestAborted);
        context.Response.Cookies.Append(SessionCookie, value, new CookieOptions
        {
            HttpOnly = true,
            Secure = issuer.SecureCookies,
            SameSite = SameSiteMode.Lax,
            Path = "/oauth",
            MaxAge = Lifetime,
        });
    }

    /// <summary>The CSRF token for a form: the cookie's, or a new one set on the response.</summary>
    public string CsrfToken(HttpContext context)
    {
        if (context.Request.Cookies[CsrfCookie] is { Length: 43 } existing)
        {
            return existing;
        }
        var token = OAuthSecrets.New();
        context.Response.Cookies.Append(CsrfCookie, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = issuer.SecureCookies,
            SameSite = SameSiteMode.Strict,
            Path = "/oauth",
        });
        return token;
    }

    /// <summary>A form post is genuine when it echoes the CSRF cookie and, if the browser says where it comes from, comes from here.</summary>
    public bool IsGenuinePost(HttpContext context, IFormCollection form)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !string.Equals(origin, issuer.Url, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var cookie = context.Request.Cookies[CsrfCookie] ?? "";
        var field = form[CsrfField].ToString();
        return cookie.Length == 43 && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(cookie), Encoding.ASCII.GetBytes(field));
    }
}
