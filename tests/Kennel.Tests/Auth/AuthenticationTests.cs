using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Auth;

/// <summary>Every /v1 route but health needs a valid, unrevoked key; anything else is a 401 that says how to authenticate.</summary>
public sealed class AuthenticationTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Every_v1_route_but_health_refuses_a_request_without_a_key(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var session = await admin.RunScriptAsync("true");
        var key = await admin.CreateApiKeyAsync(null, Scopes.Read);
        using var anonymous = server.Client(null);

        foreach (var (method, path) in ProtectedRoutes(session.Id, key.ApiKey.Id))
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = JsonContent.Create(new { script = "true" });
            }
            using var response = await anonymous.SendAsync(request);

            await response.ShouldBeProblemAsync(401, "unauthorized");
            response.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer", $"{method} {path}");
        }

        (await admin.ListSessionsAsync()).Items.Select(s => s.Id).ShouldBe([session.Id]);
        (await admin.GetSessionAsync(session.Id)).Status.ShouldBe(Contracts.Sessions.SessionStatus.Pending);
        using var health = await anonymous.GetAsync("/v1/health");
        health.EnsureSuccessStatusCode();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Garbage_malformed_and_unknown_credentials_are_refused(string store)
    {
        var server = await servers.GetAsync(store);
        var adminKey = server.AdminKey;
        var tamperedSecret = adminKey[..^1] + (adminKey[^1] == 'a' ? 'b' : 'a');
        var tamperedId = adminKey[..3] + (adminKey[3] == 'a' ? 'b' : 'a') + adminKey[4..];
        string[] headers =
        [
            "Bearer garbage",
            "Bearer kn_",
            "Bearer kn_abc_def",
            "Bearer kn_0000000000000_000000000000000000000000000000000000000",
            $"Bearer kn_{new string('0', 12)}_{new string('0', 40)}",
            $"Bearer {tamperedSecret}",
            $"Bearer {tamperedId}",
            $"Bearer {adminKey.ToUpperInvariant()}",
            $"Bearer {adminKey}x",
            $"Bearer kw_{new string('0', 12)}_{new string('0', 40)}",
            $"Bearer kwt_{new string('0', 12)}_{new string('0', 40)}",
            $"Basic {Convert.ToBase64String("admin:admin"u8)}",
            $"Token {adminKey}",
            adminKey,
            "Bearer",
            "Bearer ",
        ];

        foreach (var header in headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Url, "/v1/sessions"));
            request.Headers.TryAddWithoutValidation("Authorization", header).ShouldBeTrue();
            using var client = server.Client(null);
            using var response = await client.SendAsync(request);

            var problem = await response.ShouldBeProblemAsync(401, "unauthorized");
            response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer", customMessage: header);
            problem.Detail!.ShouldNotContain(adminKey[4..]);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_bearer_scheme_is_case_insensitive_and_a_key_elsewhere_is_ignored(string store)
    {
        var server = await servers.GetAsync(store);
        using var anonymous = server.Client(null);

        using (var lower = new HttpRequestMessage(HttpMethod.Get, "/v1/sessions"))
        {
            lower.Headers.TryAddWithoutValidation("Authorization", $"bearer {server.AdminKey}");
            using var response = await anonymous.SendAsync(lower);
            response.EnsureSuccessStatusCode();
        }
        using (var query = await anonymous.GetAsync($"/v1/sessions?api_key={server.AdminKey}&access_token={server.AdminKey}"))
        {
            await query.ShouldBeProblemAsync(401, "unauthorized");
        }
        using (var cookie = new HttpRequestMessage(HttpMethod.Get, "/v1/sessions"))
        {
            cookie.Headers.TryAddWithoutValidation("Cookie", $"api_key={server.AdminKey}");
            cookie.Headers.TryAddWithoutValidation("X-Api-Key", server.AdminKey);
            using var response = await anonymous.SendAsync(cookie);
            await response.ShouldBeProblemAsync(401, "unauthorized");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_revoked_key_is_refused_immediately(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var created = await admin.CreateApiKeyAsync(null, Scopes.Read, Scopes.Write);
        using var client = server.Client(created.Key);
        (await client.ListSessionsAsync()).ShouldNotBeNull();

        using var revoke = await admin.PostAsync($"/v1/apikeys/{created.ApiKey.Id}/revoke", null);
        revoke.EnsureSuccessStatusCode();
        var revoked = (await revoke.Content.ReadFromJsonAsync(KennelJson.Default.ApiKey))!;
        revoked.RevokedAt.ShouldNotBeNull();

        using var list = await client.GetAsync("/v1/sessions");
        await list.ShouldBeProblemAsync(401, "unauthorized");
        list.Headers.WwwAuthenticate.ToString().ShouldBe("Bearer");
        using var create = await client.PostRawAsync("/v1/sessions", """{"script": "true"}""");
        await create.ShouldBeProblemAsync(401, "unauthorized");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_key_id_with_a_wrong_secret_is_refused_even_while_the_real_key_is_in_use(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var created = await admin.CreateApiKeyAsync(null, Scopes.Read);
        using var real = server.Client(created.Key);
        (await real.ListSessionsAsync()).ShouldNotBeNull();

        // Same id, another secret of the same shape: the last character changed.
        var last = created.Key[^1];
        var forged = created.Key[..^1] + (last == 'a' ? 'b' : 'a');
        using var forger = server.Client(forged);
        using var refused = await forger.GetAsync("/v1/sessions");
        await refused.ShouldBeProblemAsync(401, "unauthorized");
        (await real.ListSessionsAsync()).ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Revoking_a_key_twice_keeps_the_first_revocation(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var created = await admin.CreateApiKeyAsync(null, Scopes.Read);

        using var first = await admin.PostAsync($"/v1/apikeys/{created.ApiKey.Id}/revoke", null);
        var firstRevokedAt = (await first.Content.ReadFromJsonAsync(KennelJson.Default.ApiKey))!.RevokedAt;
        using var second = await admin.PostAsync($"/v1/apikeys/{created.ApiKey.Id}/revoke", null);
        second.EnsureSuccessStatusCode();

        (await second.Content.ReadFromJsonAsync(KennelJson.Default.ApiKey))!.RevokedAt.ShouldBe(firstRevokedAt);
    }

    private static IEnumerable<(HttpMethod Method, string Path)> ProtectedRoutes(string sessionId, string keyId) =>
    [
        (HttpMethod.Get, "/v1/sessions"),
        (HttpMethod.Post, "/v1/sessions"),
        (HttpMethod.Get, $"/v1/sessions/{sessionId}"),
        (HttpMethod.Post, $"/v1/sessions/{sessionId}/cancel"),
        (HttpMethod.Get, $"/v1/sessions/{sessionId}/wait?timeoutMs=0"),
        (HttpMethod.Get, $"/v1/sessions/{sessionId}/stream"),
        (HttpMethod.Get, "/v1/apikeys"),
        (HttpMethod.Post, "/v1/apikeys"),
        (HttpMethod.Post, $"/v1/apikeys/{keyId}/revoke"),
        (HttpMethod.Get, "/v1/workers"),
        (HttpMethod.Post, "/v1/workers/tokens"),
        (HttpMethod.Post, "/v1/worker/poll"),
        (HttpMethod.Post, $"/v1/worker/sessions/{sessionId}/report"),
    ];
}
