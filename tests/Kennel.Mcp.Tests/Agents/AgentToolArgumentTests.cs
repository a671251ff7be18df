using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>Bad arguments to every agent tool: <c>invalid_arguments</c> naming the argument, and the tool does not run.</summary>
public sealed class AgentToolArgumentTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    public static TheoryData<string, string, string> BadCalls => With(CronToolTests.BadCalls, new()
    {
        { "models_list", """{"provider": "openai"}""", "provider" },
        { "agents_list", """{"name": "main"}""", "name" },
        { "status", """{"verbose": true}""", "verbose" },
        { "config_get", """{"path": 42}""", "path" },
        { "config_get", """{"path": "agents..main"}""", "path" },
        { "config_get", $$"""{"path": "{{new string('a', 501)}}"}""", "path" },
        { "config_set", """{"value": "high"}""", "path" },
        { "config_set", """{"path": "agents.main.thinking"}""", "value" },
        { "config_set", """{"path": "", "value": 1}""", "path" },
        { "config_set", """{"path": "agents.main.thinking", "value": "loud"}""", "agents.main.thinking" },
        { "channels_status", """{"probe": "yes"}""", "probe" },
        { "channels_action", """{"action": "send", "chat": "C1", "text": "x"}""", "channel" },
        { "channels_action", """{"channel": "team", "action": "send", "text": "x"}""", "chat" },
        { "channels_history", """{"limit": 0}""", "limit" },
        { "channels_history", """{"direction": "sideways"}""", "direction" },
        { "channels_history", """{"since": "yesterday"}""", "since" },
        { "usage_cost", """{"period": "year"}""", "period" },
        { "usage_cost", """{"groupBy": "conversation"}""", "groupBy" },
        { "usage_cost", """{"from": "yesterday"}""", "from" },
        { "usage_cost", """{"period": "day", "from": "2026-12-01"}""", "period" },
        { "usage_cost", """{"from": "2026-12-07", "to": "2026-12-01"}""", "from" },
        { "sessions_usage", """{"limit": 0}""", "limit" },
        { "sessions_usage", """{"limit": 201}""", "limit" },
        { "sessions_usage", """{"limit": "ten"}""", "limit" },
        { "sessions_usage", """{"conversationId": ""}""", "conversationId" },
        { "sessions_usage", """{"to": "soon"}""", "to" },
        { "chat_send", "{}", "message" },
        { "chat_send", """{"message": ""}""", "message" },
        { "chat_send", """{"message": "x", "waitSeconds": 0}""", "waitSeconds" },
        { "chat_send", """{"message": "x", "session": "not a key!"}""", "conversation" },
        { "chat_send_async", """{"message": "x", "agent": ""}""", "agent" },
        { "chat_run_get", "{}", "runId" },
        { "chat_run_get", """{"runId": "run_1", "waitSeconds": 301}""", "waitSeconds" },
        { "chat_run_list", """{"status": "sleeping"}""", "status" },
        { "chat_run_list", """{"limit": 101}""", "limit" },
        { "chat_run_cancel", """{"runId": 7}""", "runId" },
        { "chat_abort", """{"session": ""}""", "session" },
        { "chat_history", """{"limit": 201}""", "limit" },
        { "chat_history", """{"offset": -1}""", "offset" },
        { "sessions_list", """{"limit": 51}""", "limit" },
        { "sessions_get", """{"session": 1}""", "session" },
        { "sessions_patch", """{"thinking": "extreme"}""", "thinking" },
        { "sessions_delete", """{"deleteTranscript": "yes"}""", "deleteTranscript" },
        { "skills_list", """{"verbose": true}""", "verbose" },
        { "skills_registries", """{"name": "team"}""", "name" },
        { "skills_browse", """{"limit": 0}""", "limit" },
        { "skills_browse", """{"limit": 51}""", "limit" },
        { "skills_browse", $$"""{"query": "{{new string('q', 201)}}"}""", "query" },
        { "skills_browse", """{"name": "Not A Name"}""", "name" },
        { "skills_install", "{}", "name" },
        { "skills_install", """{"name": "../etc"}""", "name" },
        { "skills_install", """{"name": "greeter", "version": "1.0; rm -rf /"}""", "version" },
        { "skills_install", """{"name": "greeter", "acknowledgeWarnings": "yes"}""", "acknowledgeWarnings" },
    });

    private static TheoryData<string, string, string> With((string Tool, string Arguments, string Field)[] more, TheoryData<string, string, string> calls)
    {
        foreach (var (tool, arguments, field) in more)
        {
            calls.Add(tool, arguments, field);
        }
        return calls;
    }

    [Theory]
    [MemberData(nameof(BadCalls))]
    public async Task Bad_arguments_are_invalid_arguments_naming_the_field(string tool, string arguments, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));

        var failure = (await client.CallAsync(tool, arguments)).Failure();

        failure.Error.ShouldBe("invalid_arguments", failure.Message);
        failure.Field.ShouldBe(field, failure.Message);
        failure.Message.ShouldNotContain("Exception");
    }

    [Fact]
    public void Every_agent_tool_has_a_bad_call()
    {
        BadCalls.Select(row => (string)row[0]).Distinct().ShouldBe(AgentMcp.ToolNames, ignoreOrder: true);
    }
}
