using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kennel.Contracts.OAuth;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>The discovery documents and the registration answer, with seed 004's fields and MCP 2025-11-25's additions.</summary>
public sealed class DiscoveryTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_authorization_server_metadata_has_the_seed_fields_under_both_names(string store)
    {
        var server = await servers.GetAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        using var http = server.Client(null);
        foreach (var path in new[] { "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration" })
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(path));
            var root = json.RootElement;
            root.EnumerateObject().Select(p => p.Name).ShouldBe([
                "issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint", "response_types_supported",
                "grant_types_supported", "scopes_supported", "token_endpoint_auth_methods_supported", "code_challenge_methods_supported",
                "revocation_endpoint", "revocation_endpoint_auth_methods_supported", "jwks_uri", "client_id_metadata_document_supported",
                "authorization_response_iss_parameter_supported",
            ]);
            root.GetProperty("issuer").GetString().ShouldBe(issuer);
            root.GetProperty("authorization_endpoint").GetString().ShouldBe($"{issuer}/oauth/authorize");
            root.GetProperty("token_endpoint").GetString().ShouldBe($"{issuer}/oauth/token");
            root.GetProperty("registration_endpoint").GetString().ShouldBe($"{issuer}/oauth/register");
            Strings(root, "response_types_supported").ShouldBe(["code"]);
            Strings(root, "grant_types_supported").ShouldBe(["authorization_code", "refresh_token"]);
            Strings(root, "scopes_supported").ShouldBe(["mcp:read", "mcp:write", "mcp:chat", "mcp:admin"], ignoreOrder: true);
            Strings(root, "token_endpoint_auth_methods_supported").ShouldBe(["client_secret_post", "none"]);
            Strings(root, "code_challenge_methods_supported").ShouldBe(["S256"]);
            root.GetProperty("client_id_metadata_document_supported").GetBoolean().ShouldBeTrue();
            root.GetProperty("authorization_response_iss_parameter_supported").GetBoolean().ShouldBeTrue();
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_protected_resource_metadata_names_each_endpoint(string store)
    {
        var server = await servers.GetAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        using var http = server.Client(null);
        await server.Client().CreateApiKeyAsync("disc-ws", Contracts.ApiKeys.Scopes.Read);
        foreach (var (path, resource) in new[]
        {
            ("/.well-known/oauth-protected-resource", $"{issuer}/mcp"),
            ("/.well-known/oauth-protected-resource/mcp", $"{issuer}/mcp"),
            ("/.well-known/oauth-protected-resource/w/disc-ws/mcp", $"{issuer}/w/disc-ws/mcp"),
        })
        {
            var metadata = (await http.GetFromJsonAsync(path, OAuthJson.Default.ProtectedResourceMetadata))!;
            metadata.Resource.ShouldBe(resource);
            metadata.AuthorizationServers.ShouldBe([issuer]);
            metadata.ScopesSupported.Count.ShouldBe(4);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Neither_the_metadata_nor_the_401_tells_whether_a_workspace_exists(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        await server.Client().CreateApiKeyAsync("known-ws", Contracts.ApiKeys.Scopes.Read);

        var known = await AnswersAsync(server, http, "known-ws");
        var unknown = await AnswersAsync(server, http, "unknown-ws");

        known.Metadata.ShouldStartWith("200 ");
        unknown.Metadata.ShouldBe(known.Metadata.Replace("known-ws", "unknown-ws", StringComparison.Ordinal));
        known.Challenge.ShouldStartWith("401 ");
        unknown.Challenge.ShouldBe(known.Challenge.Replace("known-ws", "unknown-ws", StringComparison.Ordinal));
        // A name that no workspace can have is still refused.
        foreach (var malformed in new[] { "Known-WS", "-dash", "a_b", new string('a', 64) })
        {
            using var refused = await http.GetAsync($"/.well-known/oauth-protected-resource/w/{malformed}/mcp");
            refused.StatusCode.ShouldBe(HttpStatusCode.NotFound, malformed);
        }
    }

    /// <summary>The metadata and the anonymous 401 of one workspace's MCP endpoint, as status, headers and body.</summary>
    private static async Task<(string Metadata, string Challenge)> AnswersAsync(TestServer server, HttpClient http, string workspace)
    {
        using var metadata = await http.GetAsync($"/.well-known/oauth-protected-resource/w/{workspace}/mcp");
        using var challenge = await server.InitializeAsync($"/w/{workspace}/mcp", null);
        return ($"{(int)metadata.StatusCode} {metadata.Content.Headers.ContentType} {await metadata.Content.ReadAsStringAsync()}",
            $"{(int)challenge.StatusCode} {challenge.Headers.WwwAuthenticate} {challenge.Content.Headers.ContentType} {await challenge.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_401_from_an_mcp_endpoint_says_where_to_authorize(string store)
    {
        var server = await servers.GetAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        using var anonymous = await server.InitializeAsync("/mcp", null);
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ToString()
            .ShouldBe($"Bearer resource_metadata=\"{issuer}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:read mcp:chat\"");
        using var scoped = await server.InitializeAsync("/w/some-ws/mcp", null);
        scoped.Headers.WwwAuthenticate.ToString().ShouldContain($"resource_metadata=\"{issuer}/.well-known/oauth-protected-resource/w/some-ws/mcp\"");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_path_that_is_no_workspace_name_cannot_add_parameters_to_the_401_challenge(string store)
    {
        var server = await servers.GetAsync(store);
        var issuer = server.Url.ToString().TrimEnd('/');
        using var injected = await server.InitializeAsync("/w/a%22,error=%22x/mcp", null);
        injected.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        injected.Headers.WwwAuthenticate.ToString()
            .ShouldBe($"Bearer resource_metadata=\"{issuer}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:read mcp:chat\"");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Registration_answers_201_with_the_seed_fields(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        using var response = await http.PostAsync("/oauth/register", new StringContent("""
            {"redirect_uris": ["http://localhost:3334/callback"], "client_name": "My MCP Client", "token_endpoint_auth_method": "none",
             "grant_types": ["authorization_code"], "scope": "mcp:read mcp:chat mcp:write"}
            """, System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).ShouldBe([
            "client_id", "client_id_issued_at", "redirect_uris", "token_endpoint_auth_method", "grant_types", "client_name", "scope",
        ]);
        root.GetProperty("client_id").GetString()!.ShouldStartWith("mcp_");
        Strings(root, "redirect_uris").ShouldBe(["http://localhost:3334/callback"]);
        root.GetProperty("token_endpoint_auth_method").GetString().ShouldBe("none");
        Strings(root, "grant_types").ShouldBe(["authorization_code"]);
        root.GetProperty("client_name").GetString().ShouldBe("My MCP Client");
        root.GetProperty("scope").GetString().ShouldBe("mcp:read mcp:chat mcp:write");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_confidential_client_gets_a_secret_it_must_present(string store)
    {
        var server = await servers.GetAsync(store);
        var client = await server.RegisterAsync(method: "client_secret_post");
        client.ClientSecret.ShouldNotBeNullOrEmpty();
        using var noSecret = await server.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "mcp_rt_x", ["client_id"] = client.ClientId });
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(noSecret, "invalid_client", "client_secret", HttpStatusCode.Unauthorized);
        using var wrong = await server.TokenAsync(new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = "mcp_rt_x",
            ["client_id"] = client.ClientId,
            ["client_secret"] = "wrong",
        });
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(wrong, "invalid_client", "client_secret", HttpStatusCode.Unauthorized);
        (await server.ReadAllValuesAsync()).ShouldNotContain(v => v.Value.Contains(client.ClientSecret!, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_jwks_publishes_the_signing_key_and_rotation_keeps_old_tokens_valid(string store)
    {
        var server = await servers.GetAsync(store);
        var (before, _) = await TokenFlowTests.FlowAsync(server);
        using var admin = server.Client();
        using var rotation = await admin.PostAsync("/v1/oauth/signing-keys/rotate", null);
        rotation.StatusCode.ShouldBe(HttpStatusCode.OK);
        var rotated = (await rotation.Content.ReadFromJsonAsync(Kennel.Contracts.KennelJson.Default.SigningKeyRotation))!.Kid;
        using var notAdmin = server.Client((await admin.CreateApiKeyAsync($"k-{Guid.NewGuid():N}"[..16], Contracts.ApiKeys.Scopes.Admin)).Key);
        using var refused = await notAdmin.PostAsync("/v1/oauth/signing-keys/rotate", null);
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        using var http = server.Client(null);
        var jwks = (await http.GetFromJsonAsync("/.well-known/jwks.json", OAuthJson.Default.JsonWebKeySet))!;
        jwks.Keys[0].Kid.ShouldBe(rotated);
        jwks.Keys.Count.ShouldBeGreaterThan(1);
        jwks.Keys.ShouldAllBe(k => k.Kty == "EC" && k.Crv == "P-256" && k.Alg == "ES256");
        using (var old = await server.InitializeAsync("/mcp", before.AccessToken))
        {
            old.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var (after, _) = await TokenFlowTests.FlowAsync(server);
        var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(after.AccessToken.Split('.')[0]));
        header.RootElement.GetProperty("kid").GetString().ShouldBe(rotated);
        header.RootElement.GetProperty("alg").GetString().ShouldBe("ES256");
    }

    private static List<string> Strings(JsonElement root, string name) => [.. root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
