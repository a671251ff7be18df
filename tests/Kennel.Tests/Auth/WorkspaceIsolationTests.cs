using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Auth;

/// <summary>
/// Workspaces are a security boundary. A key of one workspace cannot tell that another workspace's session exists: it
/// gets exactly the 404 an unknown id gets, everywhere, and its changes never land.
/// </summary>
public sealed class WorkspaceIsolationTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private const string UnknownId = "ses_01jzzzzzzzzzzzzzzzzzzzzzzz";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_team_b_key_cannot_see_or_touch_a_default_workspace_session(string store)
    {
        var server = await servers.GetAsync(store);
        using var owner = server.Client();
        var secret = await owner.CreateSessionAsync(new CreateSessionRequest { Script = "echo default-only", Env = new Dictionary<string, string> { ["TOKEN"] = "s3cr3t" } });
        using var other = server.Client((await owner.CreateApiKeyAsync("team-b", Scopes.Read, Scopes.Write)).Key);

        await ShouldNotReachAsync(other, secret.Id);

        (await owner.GetSessionAsync(secret.Id)).Status.ShouldBe(SessionStatus.Pending);
        await owner.CancelAsync(secret.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_default_workspace_admin_key_cannot_see_or_touch_a_team_b_session(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        using var teamB = server.Client((await admin.CreateApiKeyAsync("team-b", Scopes.Read, Scopes.Write)).Key);
        var teamSession = await teamB.RunScriptAsync("echo team-b-only");
        teamSession.Workspace.ShouldBe("team-b");

        await ShouldNotReachAsync(admin, teamSession.Id);

        (await teamB.GetSessionAsync(teamSession.Id)).Status.ShouldBe(SessionStatus.Pending);
        (await teamB.ListSessionsAsync()).Items.ShouldAllBe(s => s.Workspace == "team-b");
        await teamB.CancelAsync(teamSession.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workspace_admin_cannot_create_or_manage_keys_of_another_workspace(string store)
    {
        var server = await servers.GetAsync(store);
        using var root = server.Client();
        var defaultKey = await root.CreateApiKeyAsync(null, Scopes.Read);
        using var teamAdmin = server.Client((await root.CreateApiKeyAsync("team-b", Scopes.Read, Scopes.Write, Scopes.Admin)).Key);

        foreach (var workspace in new[] { "default", "team-c" })
        {
            using var create = await teamAdmin.PostRawAsync("/v1/apikeys", $$"""{"workspace": "{{workspace}}", "scopes": ["mcp:read"]}""");
            await create.ShouldBeProblemAsync(403, "workspace_forbidden");
        }
        using (var list = await teamAdmin.GetAsync("/v1/apikeys?workspace=default"))
        {
            await list.ShouldBeProblemAsync(403, "workspace_forbidden");
        }
        using (var revokeAcross = await teamAdmin.PostAsync($"/v1/apikeys/{defaultKey.ApiKey.Id}/revoke?workspace=default", null))
        {
            await revokeAcross.ShouldBeProblemAsync(403, "workspace_forbidden");
        }
        using (var revokeById = await teamAdmin.PostAsync($"/v1/apikeys/{defaultKey.ApiKey.Id}/revoke", null))
        {
            await revokeById.ShouldBeProblemAsync(404, "not_found");
        }

        var own = await teamAdmin.CreateApiKeyAsync(null, Scopes.Read);
        own.ApiKey.Workspace.ShouldBe("team-b");
        var teamKeys = await teamAdmin.GetStringAsync("/v1/apikeys");
        teamKeys.ShouldNotContain(defaultKey.ApiKey.Id);
        using var stillValid = server.Client(defaultKey.Key);
        (await stillValid.ListSessionsAsync()).ShouldNotBeNull();
        (await root.GetStringAsync("/v1/apikeys")).ShouldNotContain(own.ApiKey.Id);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_default_admin_can_create_keys_for_a_new_workspace_that_starts_empty(string store)
    {
        var server = await servers.GetAsync(store);
        using var root = server.Client();
        await root.RunScriptAsync("true");

        var created = await root.CreateApiKeyAsync("fresh-team", Scopes.Read, Scopes.Write);
        using var fresh = server.Client(created.Key);

        created.ApiKey.Workspace.ShouldBe("fresh-team");
        (await fresh.ListSessionsAsync()).Items.ShouldBeEmpty();
        (await fresh.RunScriptAsync("true")).Workspace.ShouldBe("fresh-team");
    }

    /// <summary>Every session route answers exactly as for an id that does not exist, and nothing changes.</summary>
    private static async Task ShouldNotReachAsync(HttpClient intruder, string id)
    {
        foreach (var target in new[] { id, UnknownId })
        {
            using var get = await intruder.GetAsync($"/v1/sessions/{target}");
            var problem = await get.ShouldBeProblemAsync(404, "not_found");
            problem.Detail.ShouldBe($"There is no session '{target}' in this workspace.");
            using var wait = await intruder.GetAsync($"/v1/sessions/{target}/wait?timeoutMs=0");
            await wait.ShouldBeProblemAsync(404, "not_found");
            using var cancel = await intruder.PostAsync($"/v1/sessions/{target}/cancel", null);
            await cancel.ShouldBeProblemAsync(404, "not_found");
            using var stream = await intruder.GetAsync($"/v1/sessions/{target}/stream");
            await stream.ShouldBeProblemAsync(404, "not_found");
        }
        foreach (var query in new[] { "", "status=pending", "limit=200", $"cursor={UnknownId}" })
        {
            var page = await intruder.ListSessionsAsync(query);
            page.Items.ShouldNotContain(s => s.Id == id);
        }
    }
}
