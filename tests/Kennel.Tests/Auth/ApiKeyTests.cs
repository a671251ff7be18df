using System.Net.Http.Json;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Auth;

/// <summary>API keys: prefixed, shown once, hashed at rest, scoped; and the bootstrap admin key of a new installation.</summary>
public sealed class ApiKeyTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_created_key_is_shown_once_with_its_prefix_and_works_at_once(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        using var response = await admin.PostRawAsync("/v1/apikeys", """{"name": "ci", "scopes": ["mcp:read", "mcp:write"]}""");

        ((int)response.StatusCode).ShouldBe(201);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var key = json.RootElement.GetProperty("key").GetString()!;
        key.ShouldStartWith("kn_");
        var apiKey = json.RootElement.GetProperty("apiKey");
        apiKey.GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
        apiKey.GetProperty("name").GetString().ShouldBe("ci");
        apiKey.GetProperty("workspace").GetString().ShouldBe("default");
        apiKey.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ShouldBe(["mcp:read", "mcp:write"]);
        (apiKey.TryGetProperty("revokedAt", out var revokedAt) ? revokedAt.ValueKind : JsonValueKind.Null).ShouldBe(JsonValueKind.Null);
        apiKey.ToString().ShouldNotContain(key[^40..]);
        using var client = server.Client(key);
        (await client.RunScriptAsync("true")).Workspace.ShouldBe("default");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_key_asked_for_without_scopes_gets_read_and_chat(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var created = await admin.CreateApiKeyAsync();

        created.ApiKey.Scopes.ShouldBe([Scopes.Read, Scopes.Chat]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_key_list_never_shows_a_secret(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var first = await admin.CreateApiKeyAsync(null, Scopes.Read);
        var second = await admin.CreateApiKeyAsync(null, Scopes.Read, Scopes.Write);
        using (var used = server.Client(first.Key))
        {
            await used.ListSessionsAsync();
        }

        var body = await admin.GetStringAsync("/v1/apikeys");

        foreach (var secret in new[] { first.Key, second.Key, server.AdminKey })
        {
            body.ShouldNotContain(secret[^40..]);
        }
        using var json = JsonDocument.Parse(body);
        var items = json.RootElement.EnumerateArray().ToList();
        items.Select(i => i.GetProperty("id").GetString()).ShouldContain(first.ApiKey.Id);
        items.Select(i => i.GetProperty("id").GetString()).ShouldContain(second.ApiKey.Id);
        items.Single(i => i.GetProperty("id").GetString() == first.ApiKey.Id).GetProperty("lastUsedAt").ValueKind.ShouldBe(JsonValueKind.String);
        foreach (var item in items)
        {
            item.EnumerateObject().Select(p => p.Name).ShouldBeSubsetOf(["id", "name", "workspace", "scopes", "createdAt", "lastUsedAt", "revokedAt"]);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task No_key_secret_is_stored_in_the_database(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var created = await admin.CreateApiKeyAsync(null, Scopes.Read);
        using var client = server.Client(created.Key);
        await client.ListSessionsAsync();

        var values = await server.ReadAllValuesAsync();

        values.ShouldContain(v => v.Table == "api_keys" && v.Value == created.ApiKey.Id);
        foreach (var secret in new[] { created.Key, server.AdminKey })
        {
            var leaks = values.Where(v => v.Value.Contains(secret[^40..], StringComparison.Ordinal)).ToList();
            leaks.ShouldBeEmpty($"the secret is stored in {string.Join(", ", leaks.Select(l => $"{l.Table}.{l.Column}"))}");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_key_requests_are_refused_naming_the_field(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        foreach (var (body, code, field) in new[]
        {
            ("""{"scopes": ["mcp:everything"]}""", "invalid_request", "scopes"),
            ("""{"workspace": "Team B"}""", "invalid_request", "workspace"),
            ("""{"workspace": ""}""", "invalid_request", "workspace"),
            ($$"""{"name": "{{new string('n', 101)}}"}""", "invalid_request", "name"),
            ("""{"name": "x", "expires": 5}""", "invalid_json", "expires"),
            ("""{"scopes": "mcp:read"}""", "invalid_json", "scopes"),
        })
        {
            using var response = await admin.PostRawAsync("/v1/apikeys", body);
            await response.ShouldBeProblemAsync(400, code, field);
        }
        using var revoke = await admin.PostAsync("/v1/apikeys/key_000000000000/revoke", null);
        await revoke.ShouldBeProblemAsync(404, "not_found");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_first_start_writes_a_private_admin_key_and_a_restart_issues_none(string store)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-bootstrap-").FullName;
        var database = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        try
        {
            string issued;
            await using (var first = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false }, dataDir, database))
            {
                first.Server.BootstrapKey.ShouldNotBeNull();
                issued = first.Server.BootstrapKey!;
                issued.ShouldStartWith("kn_");
            }
            var file = Path.Combine(dataDir, "admin-api-key");
            File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.GetUnixFileMode(dataDir).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            (await File.ReadAllTextAsync(file)).Trim().ShouldBe(issued);

            await using var second = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false }, dataDir, database);

            second.Server.BootstrapKey.ShouldBeNull();
            (await File.ReadAllTextAsync(file)).Trim().ShouldBe(issued);
            using var admin = second.Client(issued);
            var keys = (await admin.GetFromJsonAsync("/v1/apikeys", KennelJson.Default.IReadOnlyListApiKey))!;
            keys.Count.ShouldBe(1);
            keys[0].Scopes.ShouldBe(Scopes.All, ignoreOrder: true);
            keys[0].Workspace.ShouldBe("default");
        }
        finally
        {
            if (database is not null)
            {
                await TestStore.DropDatabaseAsync(database);
            }
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
