using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>
/// The registry with token authentication, as Docker Hub and most hosted registries run it: it answers 401 with a
/// <c>WWW-Authenticate: Bearer realm=…,service=…,scope=…</c> challenge, and accepts ES256 JWTs signed by the key of a
/// certificate in its <c>rootcertbundle</c>. The token service is the test's own, on another loopback port: it grants
/// what a request's scope asks to <see cref="User"/> with <see cref="Password"/>, nothing to anonymous callers, and
/// refuses a wrong password with 401. It counts the anonymous requests it answered.
/// </summary>
public sealed class TokenRegistry : DockerRegistry, IDisposable
{
    public const string User = "puller";
    public const string Password = "correct horse";
    private const string Service = "kennel-test-registry";
    private const string Issuer = "kennel-test-issuer";

    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly HttpListener listener = new();
    private readonly int tokenPort = LoopbackPort.Free();
    private X509Certificate2? certificate;
    private Task? serving;

    public int AnonymousTokens { get; private set; }

    protected override string Auth => $"""
        auth:
          token:
            realm: http://127.0.0.1:{tokenPort}/token
            service: {Service}
            issuer: {Issuer}
            rootcertbundle: {Path.Join(Directory, "token.pem")}
        """;

    public override async Task InitializeAsync()
    {
        var request = new CertificateRequest("CN=kennel test token issuer", key, HashAlgorithmName.SHA256);
        certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Join(Directory, "token.pem"), certificate.ExportCertificatePem());
        listener.Prefixes.Add($"http://127.0.0.1:{tokenPort}/");
        listener.Start();
        serving = Task.Run(() => ListenerLoop.ServeAsync(listener, AnswerAsync));
        await base.InitializeAsync();
    }

    protected override Task<HttpClient> ClientAsync(string repository)
    {
        var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token([(repository, "pull,push")]));
        return Task.FromResult(client);
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        var login = context.Request.Headers["Authorization"] is { } header && header.StartsWith("Basic ", StringComparison.Ordinal)
            ? Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]))
            : null;
        if (login is not null && login != $"{User}:{Password}")
        {
            response.StatusCode = 401;
            return;
        }
        AnonymousTokens += login is null ? 1 : 0;
        // scope=repository:NAME:ACTIONS
        var granted = login is null || context.Request.QueryString["scope"]?.Split(':') is not [_, var name, var actions]
            ? []
            : new[] { (name, actions) };
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["token"] = Token(granted) }.ToJsonString());
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync(body);
    }

    /// <summary>A JWT as the distribution server's token auth reads it: ES256, the certificate in <c>x5c</c>, access by repository.</summary>
    private string Token(IEnumerable<(string Repository, string Actions)> access)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new JsonArray(Convert.ToBase64String(certificate!.RawData)) };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = User,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 60,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = new JsonArray(access.Select(grant => (JsonNode)new JsonObject
            {
                ["type"] = "repository",
                ["name"] = grant.Repository,
                ["actions"] = new JsonArray(grant.Actions.Split(',').Select(action => (JsonNode)JsonValue.Create(action)).ToArray()),
            }).ToArray()),
        };
        var signed = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        return $"{signed}.{Base64Url(key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256))}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        listener.Stop();
        if (serving is not null)
        {
            await serving;
        }
    }

    public void Dispose()
    {
        listener.Close();
        certificate?.Dispose();
        key.Dispose();
    }
}
