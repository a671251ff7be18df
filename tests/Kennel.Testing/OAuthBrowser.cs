using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kennel.Contracts;
using Kennel.Contracts.OAuth;
using Kennel.Contracts.Users;

namespace Kennel.Testing;

/// <summary>
/// What a person does in a browser during an OAuth authorization, over real HTTP: opens the authorization URL, fills in
/// the login form, answers the consent form, and ends at the client's redirect URI (which is returned, not followed).
/// Cookies are kept like a browser keeps them.
/// </summary>
public sealed partial class OAuthBrowser : IDisposable
{
    private readonly HttpClient http;

    public OAuthBrowser(Uri server)
    {
        Cookies = new CookieContainer();
        http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
    }

    public CookieContainer Cookies { get; }

    public HttpClient Http => http;

    /// <summary>Signs in and allows (or denies); returns where Kennel sent the browser back to (the client's redirect URI with code or error).</summary>
    public async Task<Uri> AuthorizeAsync(Uri authorizationUrl, string email, string password, bool allow = true, string? workspace = null)
    {
        var page = await http.GetAsync(authorizationUrl);
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode == HttpStatusCode.Redirect)
        {
            return page.Headers.Location!;
        }
        if (html.Contains("action=\"/oauth/login\"", StringComparison.Ordinal))
        {
            var fields = Fields(html);
            fields["email"] = email;
            fields["password"] = password;
            using var login = await http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
            if (login.StatusCode != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"Login answered {(int)login.StatusCode}: {await login.Content.ReadAsStringAsync()}");
            }
            page = await http.GetAsync(login.Headers.Location);
            if (page.StatusCode == HttpStatusCode.Redirect)
            {
                return page.Headers.Location!;
            }
            html = await page.Content.ReadAsStringAsync();
        }
        if (!html.Contains("action=\"/oauth/consent\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Expected the consent page, got {(int)page.StatusCode}: {html}");
        }
        var consent = Fields(html);
        consent["decision"] = allow ? "allow" : "deny";
        if (workspace is not null)
        {
            consent["workspace"] = workspace;
        }
        using var answer = await http.PostAsync("/oauth/consent", new FormUrlEncodedContent(consent));
        if (answer.StatusCode == HttpStatusCode.OK && workspace is not null
            && await answer.Content.ReadAsStringAsync() is { } shown && shown.Contains("action=\"/oauth/consent\"", StringComparison.Ordinal))
        {
            // Another workspace than the page showed: Kennel shows the page again with that workspace's scopes, and only
            // a second Allow grants them.
            var again = Fields(shown);
            again["decision"] = allow ? "allow" : "deny";
            using var confirmed = await http.PostAsync("/oauth/consent", new FormUrlEncodedContent(again));
            return confirmed.Headers.Location ?? throw new InvalidOperationException($"Consent answered {(int)confirmed.StatusCode}: {await confirmed.Content.ReadAsStringAsync()}");
        }
        return answer.Headers.Location ?? throw new InvalidOperationException($"Consent answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
    }

    /// <summary>The hidden fields of the page's form, as a browser would submit them.</summary>
    public static Dictionary<string, string> Fields(string html) => HiddenField().Matches(html)
        .ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));

    public static string? Query(Uri uri, string name) =>
        System.Web.HttpUtility.ParseQueryString(uri.Query)[name];

    public void Dispose() => http.Dispose();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();
}

/// <summary>OAuth steps a client takes, as plain HTTP calls: register, build the authorization URL, redeem, refresh.</summary>
public static class OAuthClientSteps
{
    public const string Password = "correct horse battery";

    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static async Task<string> CreateUserAsync(this TestServer server, string? workspace, string role = Roles.Member, string? email = null)
    {
        email ??= $"u{Guid.NewGuid():N}"[..12] + "@example.com";
        using var admin = server.Client();
        using var response = await admin.PostAsJsonAsync("/v1/users",
            new CreateUserRequest { Email = email, Password = Password, Workspace = workspace, Role = workspace is null ? null : role }, KennelJson.Default.CreateUserRequest);
        response.EnsureSuccessStatusCode();
        return email;
    }

    public static async Task<ClientRegistration> RegisterAsync(this TestServer server, string redirectUri = "http://127.0.0.1:9/callback", string method = "none", string? scope = null)
    {
        using var http = server.Client(null);
        using var response = await http.PostAsJsonAsync("/oauth/register",
            new ClientMetadata { RedirectUris = [redirectUri], ClientName = "Test client", TokenEndpointAuthMethod = method, Scope = scope }, OAuthJson.Default.ClientMetadata);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Registration answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(OAuthJson.Default.ClientRegistration))!;
    }

    public static Uri AuthorizationUrl(this TestServer server, string clientId, string redirectUri, string? challenge, string? resourcePath = "/mcp",
        string? scope = null, string state = "xyz", string? method = "S256")
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["state"] = state,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = challenge is null ? null : method,
            ["scope"] = scope,
            ["resource"] = resourcePath is null ? null : new Uri(server.Url, resourcePath).ToString().TrimEnd('/'),
        };
        return new Uri(server.Url, "/oauth/authorize?" + string.Join('&', query.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}")));
    }

    /// <summary>A claim of an access token, read as a client would, without checking the token.</summary>
    public static string? Claim(string accessToken, string name) => JwtPart(accessToken, 1).GetProperty(name).GetString();

    /// <summary>A header field of an access token (<c>kid</c>, <c>alg</c>, <c>typ</c>), read without checking the token.</summary>
    public static string? Header(string accessToken, string name) => JwtPart(accessToken, 0).GetProperty(name).GetString();

    private static JsonElement JwtPart(string token, int part)
    {
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[part]));
        return document.RootElement.Clone();
    }

    public static async Task<HttpResponseMessage> TokenAsync(this TestServer server, Dictionary<string, string> form)
    {
        using var http = server.Client(null);
        return await http.PostAsync("/oauth/token", new FormUrlEncodedContent(form));
    }

    /// <summary>A user in <paramref name="workspace"/>, a public client, and an authorization for <paramref name="resourcePath"/>: the token response.</summary>
    public static async Task<TokenResponse> FullFlowAsync(this TestServer server, string workspace, string resourcePath = "/mcp", string? scope = null, string role = Roles.Member)
    {
        var email = await server.CreateUserAsync(workspace, role);
        var client = await server.RegisterAsync();
        var (verifier, challenge) = Pkce();
        using var browser = new OAuthBrowser(server.Url);
        var back = await browser.AuthorizeAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], challenge, resourcePath, scope), email, Password);
        var code = OAuthBrowser.Query(back, "code") ?? throw new InvalidOperationException($"No code in {back}");
        using var response = await server.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["client_id"] = client.ClientId,
            ["redirect_uri"] = client.RedirectUris[0],
            ["code_verifier"] = verifier,
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
    }
}

/// <summary>An MCP initialize request over plain HTTP, to see how an endpoint answers a credential.</summary>
public static class McpProbe
{
    public static async Task<HttpResponseMessage> InitializeAsync(this TestServer server, string path, string? token)
    {
        using var http = server.Client(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return await http.SendAsync(request);
    }

    /// <summary>One request of <paramref name="method"/> in a fresh MCP session of <paramref name="credential"/>: the raw answer.</summary>
    public static async Task<HttpResponseMessage> CallAsync(this TestServer server, string credential, string method, string parameters)
    {
        string session;
        using (var initialized = await server.InitializeAsync("/mcp", credential))
        {
            session = initialized.StatusCode == HttpStatusCode.OK
                ? initialized.Headers.GetValues("Mcp-Session-Id").Single()
                : throw new InvalidOperationException($"initialize answered {(int)initialized.StatusCode}");
        }
        using var http = server.Client(credential);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent($$"""{"jsonrpc":"2.0","id":2,"method":"{{method}}","params":{{parameters}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Mcp-Session-Id", session);
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        return await http.SendAsync(request);
    }
}
