using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Auth;

/// <summary>Scopes are enforced on every route: a 403 names the scope that is missing, and the request has no effect.</summary>
public sealed class ScopeTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_read_only_key_cannot_create_or_cancel_but_can_list_and_get(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Admin);
        var session = await admin.RunScriptAsync("true");
        var readKey = await admin.CreateApiKeyAsync(null, Scopes.Read);
        using var reader = server.Client(readKey.Key);

        using (var create = await reader.PostRawAsync("/v1/sessions", """{"script": "echo sneaky"}"""))
        {
            await create.ShouldBeForbiddenAsync(Scopes.Write);
        }
        using (var cancel = await reader.PostAsync($"/v1/sessions/{session.Id}/cancel", null))
        {
            await cancel.ShouldBeForbiddenAsync(Scopes.Write);
        }

        (await reader.GetSessionAsync(session.Id)).Status.ShouldBe(SessionStatus.Pending);
        (await reader.ListSessionsAsync()).Items.Select(s => s.Id).ShouldBe([session.Id]);
        (await reader.WaitAsync(session.Id, TimeSpan.Zero)).Status.ShouldBe(SessionStatus.Pending);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_write_only_key_can_create_and_cancel_but_not_read(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Admin);
        using var writer = server.Client((await admin.CreateApiKeyAsync(null, Scopes.Write)).Key);

        var session = await writer.RunScriptAsync("true");
        (await writer.CancelAsync(session.Id)).Status.ShouldBe(SessionStatus.Cancelled);

        using var list = await writer.GetAsync("/v1/sessions");
        await list.ShouldBeForbiddenAsync(Scopes.Read);
        using var get = await writer.GetAsync($"/v1/sessions/{session.Id}");
        await get.ShouldBeForbiddenAsync(Scopes.Read);
        using var wait = await writer.GetAsync($"/v1/sessions/{session.Id}/wait?timeoutMs=0");
        await wait.ShouldBeForbiddenAsync(Scopes.Read);
        using var stream = await writer.GetAsync($"/v1/sessions/{session.Id}/stream");
        await stream.ShouldBeForbiddenAsync(Scopes.Read);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_key_without_admin_cannot_manage_keys_or_workers(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var victim = await admin.CreateApiKeyAsync(null, Scopes.Read);
        using var user = server.Client((await admin.CreateApiKeyAsync(null, Scopes.Read, Scopes.Write, Scopes.Chat)).Key);

        using (var list = await user.GetAsync("/v1/apikeys"))
        {
            await list.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var create = await user.PostRawAsync("/v1/apikeys", """{"scopes": ["mcp:read"]}"""))
        {
            await create.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var revoke = await user.PostAsync($"/v1/apikeys/{victim.ApiKey.Id}/revoke", null))
        {
            await revoke.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var workers = await user.GetAsync("/v1/workers"))
        {
            await workers.ShouldBeForbiddenAsync(Scopes.Admin);
        }
        using (var token = await user.PostRawAsync("/v1/workers/tokens", "{}"))
        {
            await token.ShouldBeForbiddenAsync(Scopes.Admin);
        }

        using var victimClient = server.Client(victim.Key);
        (await victimClient.ListSessionsAsync()).ShouldNotBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_key_cannot_grant_a_scope_it_lacks(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        using var limitedAdmin = server.Client((await admin.CreateApiKeyAsync(null, Scopes.Admin, Scopes.Read)).Key);

        using (var escalate = await limitedAdmin.PostRawAsync("/v1/apikeys", """{"name": "escalated", "scopes": ["mcp:read", "mcp:write"]}"""))
        {
            var problem = await escalate.ShouldBeProblemAsync(403, "insufficient_scope");
            problem.Detail!.ShouldContain(Scopes.Write);
        }
        var keys = await limitedAdmin.GetStringAsync("/v1/apikeys");
        keys.ShouldNotContain("escalated");

        var subset = await limitedAdmin.CreateApiKeyAsync(null, Scopes.Read);
        subset.ApiKey.Scopes.ShouldBe([Scopes.Read]);
    }
}
