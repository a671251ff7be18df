using System.Net;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using static Kennel.Mcp.Tests.RawMcp;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>
/// The agent endpoint as a client sees it: exactly the agent tools (no fleet tool), seed 004's transport (stateless,
/// JSON answers), its scopes and its workspace binding.
/// </summary>
public sealed class AgentEndpointTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    /// <summary>The hints of the tools that change something: (destructive, idempotent, open world). The rest only read.</summary>
    private static readonly Dictionary<string, (bool Destructive, bool Idempotent, bool OpenWorld)> WriteTools = new()
    {
        ["config_set"] = (true, true, false),
        ["chat_send"] = (false, false, true),
        ["chat_send_async"] = (false, false, true),
        ["chat_run_cancel"] = (true, true, false),
        ["chat_abort"] = (true, false, false),
        ["sessions_patch"] = (false, true, false),
        ["sessions_delete"] = (true, false, false),
        ["cron_add"] = (false, false, false),
        ["cron_remove"] = (true, false, false),
        ["cron_run"] = (false, false, false),
        ["skills_install"] = (false, true, true),
        ["channels_action"] = (false, false, true),
    };

    /// <summary>Read tools that reach outside Kennel (a skill registry).</summary>
    private static readonly HashSet<string> OpenWorldReads = ["skills_browse"];

    [Fact]
    public async Task The_endpoint_lists_exactly_the_agent_tools_with_titles_schemas_and_annotations_and_no_fleet_tool()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.All.ToArray()));

        var tools = await client.ListToolsAsync();

        tools.Select(t => t.Name).ShouldBe(AgentMcp.ToolNames, ignoreOrder: true);
        foreach (var tool in tools)
        {
            tool.Title.ShouldNotBeNullOrWhiteSpace(tool.Name);
            tool.Description.Length.ShouldBeGreaterThan(60, tool.Name);
            tool.ProtocolTool.OutputSchema.ShouldNotBeNull(tool.Name);
            tool.JsonSchema.GetProperty("type").GetString().ShouldBe("object", tool.Name);
            var hints = tool.ProtocolTool.Annotations!;
            var (destructive, idempotent, openWorld) = WriteTools.GetValueOrDefault(tool.Name, (false, true, OpenWorldReads.Contains(tool.Name)));
            hints.ReadOnlyHint.ShouldBe(!WriteTools.ContainsKey(tool.Name), tool.Name);
            hints.DestructiveHint.ShouldBe(destructive, tool.Name);
            hints.IdempotentHint.ShouldBe(idempotent, tool.Name);
            hints.OpenWorldHint.ShouldBe(openWorld, tool.Name);
        }
        var schemas = tools.ToDictionary(t => t.Name, t => t.JsonSchema.GetProperty("properties"));
        var limit = schemas["sessions_usage"].GetProperty("limit");
        limit.GetProperty("minimum").GetInt32().ShouldBe(1);
        limit.GetProperty("maximum").GetInt32().ShouldBe(200);
        schemas["cron_runs"].GetProperty("limit").GetProperty("maximum").GetInt32().ShouldBe(200);
        schemas["cron_add"].GetProperty("overlap").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ShouldBe(["skip", "queue"]);
        schemas["config_set"].GetProperty("path").GetProperty("maxLength").GetInt32().ShouldBe(500);
        schemas["usage_cost"].GetProperty("groupBy").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ShouldBe(["day", "model", "agent"]);

        var fleet = (await client.CallAsync("list-sessions")).Failure();
        fleet.Error.ShouldBe("unknown_tool");
    }

    [Fact]
    public async Task A_client_that_never_sends_a_session_id_works_and_gets_application_json()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        using var http = server.Client(await server.NewKeyAsync(workspace, Scopes.Read));

        using var initialized = await http.SendAsync(At(workspace, Post(Initialize)));
        initialized.StatusCode.ShouldBe(HttpStatusCode.OK);
        initialized.Headers.Contains("Mcp-Session-Id").ShouldBeFalse();
        initialized.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        (await ReadEventAsync(initialized)).GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString().ShouldBe("kennel-agents");

        // No initialize before it, no session id: any replica answers any request.
        using var called = await http.SendAsync(At(workspace, Post("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"agents_list","arguments":{}}}""")));
        called.StatusCode.ShouldBe(HttpStatusCode.OK);
        called.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var result = JsonDocument.Parse(await called.Content.ReadAsStringAsync()).RootElement;
        result.GetProperty("id").GetInt32().ShouldBe(7);
        result.GetProperty("result").GetProperty("structuredContent").GetProperty("items")[0].GetProperty("name").GetString().ShouldBe("main");

        using var get = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/w/{workspace}/mcp") { Headers = { { "Accept", "text/event-stream" } } });
        get.StatusCode.ShouldBeOneOf(HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_read_only_key_does_not_see_config_set_and_calling_it_is_insufficient_scope()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read));

        (await client.ListToolsAsync()).Select(t => t.Name).ShouldNotContain("config_set");
        var refused = (await client.CallAsync("config_set", """{"path": "agents.main.thinking", "value": "high"}""")).Failure();

        refused.Error.ShouldBe("insufficient_scope");
        refused.Message.ShouldBe("Missing scopes: mcp:write");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_key_of_another_workspace_is_refused_and_fleet_tools_stay_on_mcp(string store)
    {
        var server = await servers.GetAsync(store);
        var (mine, other) = (AgentMcp.NewWorkspace(), AgentMcp.NewWorkspace());
        var otherKey = await server.NewKeyAsync(other, Scopes.All.ToArray());
        using var http = server.Client(otherKey);

        using var refused = await http.SendAsync(At(mine, Post(Initialize)));
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        using var called = await http.SendAsync(At(mine, Post("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"config_get","arguments":{}}}""")));
        called.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        await using var fleet = await server.ConnectAsync(otherKey);
        (await fleet.ListToolsAsync()).Select(t => t.Name).ShouldContain("list-sessions");
        (await fleet.ListToolsAsync()).Select(t => t.Name).ShouldNotContain("config_get");
    }

    [Fact]
    public async Task A_browser_page_of_an_origin_not_allowed_is_refused()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        using var http = server.Client(await server.NewKeyAsync(workspace, Scopes.Read));
        var request = At(workspace, Post(Initialize));
        request.Headers.Add("Origin", "https://evil.example");

        using var refused = await http.SendAsync(request);

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await ReadEventAsync(refused)).GetProperty("error").GetProperty("message").GetString()!.ShouldContain("origin 'https://evil.example' is not allowed");
    }

    private static HttpRequestMessage At(string workspace, HttpRequestMessage request)
    {
        request.RequestUri = new Uri($"/w/{workspace}/mcp", UriKind.Relative);
        return request;
    }
}
