using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kennel.ControlPlane.OAuth;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.OAuth;

/// <summary>
/// Access tokens an attacker could build, each refused on <c>/mcp</c> with 401 <c>invalid_token</c>. Some are signed with
/// the server's own current key (taken from the server, as a stolen key would be) and carry claims that are wrong in one
/// way; a copy of a real token re-signed unchanged the same way is accepted, so each refusal is the claim's fault.
/// </summary>
public sealed class ForgedTokenTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_real_token_re_signed_unchanged_with_the_servers_key_is_accepted(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        using var accepted = await server.InitializeAsync("/mcp", Sign(Header(key.Id), claims, key.Key));
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_signed_by_the_servers_key_with_a_wrong_or_missing_claim_is_refused(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cases = new Dictionary<string, Action<JsonObject>>
        {
            ["another issuer"] = c => c["iss"] = "https://evil.example",
            ["the issuer with a trailing slash"] = c => c["iss"] = issuer + "/",
            ["no issuer"] = c => c.Remove("iss"),
            ["another server's endpoint as audience"] = c => c["aud"] = "https://evil.example/mcp",
            ["another endpoint of this server as audience"] = c => c["aud"] = $"{issuer}/w/default/mcp",
            ["an audience list"] = c => c["aud"] = new JsonArray(issuer + "/mcp", "https://evil.example/mcp"),
            ["no audience"] = c => c.Remove("aud"),
            ["an expiry in the past"] = c => (c["iat"], c["exp"]) = (now - 7200, now - 3600),
            ["no expiry"] = c => c.Remove("exp"),
            ["no grant"] = c => c.Remove("grant_id"),
            ["no workspace"] = c => c.Remove("workspace_id"),
            ["no scope"] = c => c.Remove("scope"),
            ["no subject"] = c => c.Remove("sub"),
        };
        foreach (var (name, change) in cases)
        {
            var wrong = claims.DeepClone().AsObject();
            change(wrong);
            await ShouldBeRefusedAsync(server, Sign(Header(key.Id), wrong, key.Key), name);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_signed_by_the_servers_key_that_is_not_an_access_token_or_not_valid_yet_is_refused(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await ShouldBeRefusedAsync(server, Sign($$"""{"alg":"ES256","typ":"JWT","kid":"{{key.Id}}"}""", claims, key.Key), "typ JWT, not at+jwt");
        await ShouldBeRefusedAsync(server, Sign($$"""{"alg":"ES256","kid":"{{key.Id}}"}""", claims, key.Key), "no typ");
        var early = claims.DeepClone().AsObject();
        early["nbf"] = now + 3600;
        await ShouldBeRefusedAsync(server, Sign(Header(key.Id), early, key.Key), "not valid for another hour");

        var started = claims.DeepClone().AsObject();
        started["nbf"] = now - 60;
        using var accepted = await server.InitializeAsync("/mcp", Sign(Header(key.Id), started, key.Key));
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK, "valid since a minute ago");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_signed_with_hmac_over_the_servers_public_key_is_refused(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        using var http = server.Client(null);
        var jwks = await http.GetStringAsync("/.well-known/jwks.json");
        var point = key.Key.ExportParameters(includePrivateParameters: false).Q;
        // The public key as an HS256 secret, in every form a confused verifier might feed it to HMAC.
        var secrets = new Dictionary<string, byte[]>
        {
            ["PEM"] = Encoding.ASCII.GetBytes(key.Key.ExportSubjectPublicKeyInfoPem()),
            ["DER"] = key.Key.ExportSubjectPublicKeyInfo(),
            ["uncompressed point"] = [0x04, .. point.X!, .. point.Y!],
            ["x and y"] = [.. point.X!, .. point.Y!],
            ["the JWKS document"] = Encoding.UTF8.GetBytes(jwks),
        };
        foreach (var algorithm in new[] { "HS256", "hs256" })
        {
            foreach (var (name, secret) in secrets)
            {
                var input = $"{Encode($$"""{"alg":"{{algorithm}}","typ":"at+jwt","kid":"{{key.Id}}"}""")}.{Encode(claims.ToJsonString())}";
                var token = $"{input}.{Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)))}";
                await ShouldBeRefusedAsync(server, token, $"{algorithm} keyed with the public key as {name}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unsigned_token_is_refused_whatever_it_calls_its_algorithm(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        var signed = Sign(Header(key.Id), claims, key.Key);
        foreach (var algorithm in new[] { "none", "None", "NONE", "" })
        {
            var header = Encode($$"""{"alg":"{{algorithm}}","typ":"at+jwt","kid":"{{key.Id}}"}""");
            var payload = signed.Split('.')[1];
            await ShouldBeRefusedAsync(server, $"{header}.{payload}.", $"alg '{algorithm}' with no signature");
            await ShouldBeRefusedAsync(server, $"{header}.{payload}.{signed.Split('.')[2]}", $"alg '{algorithm}' with the real signature kept");
        }
        await ShouldBeRefusedAsync(server, $"{Encode("""{"typ":"at+jwt"}""")}.{signed.Split('.')[1]}.{signed.Split('.')[2]}", "no alg");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_whose_key_the_server_does_not_hold_is_refused(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var point = attacker.ExportParameters(includePrivateParameters: false).Q;
        var jwk = $$"""{"kty":"EC","crv":"P-256","x":"{{Base64Url.EncodeToString(point.X)}}","y":"{{Base64Url.EncodeToString(point.Y)}}"}""";
        var cases = new Dictionary<string, string>
        {
            ["an unknown kid"] = Sign(Header("key_unknown"), claims, attacker),
            ["the server's kid"] = Sign(Header(key.Id), claims, attacker),
            ["no kid"] = Sign("""{"alg":"ES256","typ":"at+jwt"}""", claims, attacker),
            ["the server's key but no kid"] = Sign("""{"alg":"ES256","typ":"at+jwt"}""", claims, key.Key),
            ["the server's key and an empty kid"] = Sign(Header(""), claims, key.Key),
            ["an embedded jwk"] = Sign($$"""{"alg":"ES256","typ":"at+jwt","kid":"attacker","jwk":{{jwk}}}""", claims, attacker),
            ["an embedded jwk and the server's kid"] = Sign($$"""{"alg":"ES256","typ":"at+jwt","kid":"{{key.Id}}","jwk":{{jwk}}}""", claims, attacker),
            ["a jku"] = Sign("""{"alg":"ES256","typ":"at+jwt","kid":"attacker","jku":"https://evil.example/jwks.json"}""", claims, attacker),
        };
        foreach (var (name, token) in cases)
        {
            await ShouldBeRefusedAsync(server, token, name);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_token_with_a_malformed_signature_or_structure_is_refused(string store)
    {
        var (server, claims, key) = await RealTokenAsync(store);
        var signed = Sign(Header(key.Id), claims, key.Key);
        var parts = signed.Split('.');
        var input = Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}");
        var cases = new Dictionary<string, string>
        {
            ["a DER signature by the server's key"] = $"{parts[0]}.{parts[1]}.{Base64Url.EncodeToString(key.Key.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))}",
            ["a truncated signature"] = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}",
            ["a signature with padding"] = $"{signed}==",
            ["a fourth part"] = $"{signed}.{parts[2]}",
            ["a payload that is not JSON"] = Sign(Header(key.Id), "not json", key.Key),
            ["a payload that is a JSON array"] = Sign(Header(key.Id), "[1]", key.Key),
            ["a header that is not JSON"] = Sign("""{"alg":"ES256","kid":""", claims, key.Key),
        };
        foreach (var (name, token) in cases)
        {
            await ShouldBeRefusedAsync(server, token, name);
        }
    }

    private async Task<(TestServer Server, JsonObject Claims, SigningKeys.SigningKey Key)> RealTokenAsync(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, _) = await TokenFlowTests.FlowAsync(server);
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(tokens.AccessToken.Split('.')[1]))!.AsObject();
        var key = await server.Server.Services.GetRequiredService<SigningKeys>().CurrentAsync(CancellationToken.None);
        return (server, claims, key);
    }

    private static async Task ShouldBeRefusedAsync(TestServer server, string token, string why)
    {
        using var refused = await server.InitializeAsync("/mcp", token);
        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, why);
        refused.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"", customMessage: why);
    }

    private static string Header(string kid) => $$"""{"alg":"ES256","typ":"at+jwt","kid":"{{kid}}"}""";

    private static string Sign(string header, JsonObject claims, ECDsa key) => Sign(header, claims.ToJsonString(), key);

    private static string Sign(string header, string claims, ECDsa key)
    {
        var input = $"{Encode(header)}.{Encode(claims)}";
        return $"{input}.{Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))}";
    }

    private static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
}
