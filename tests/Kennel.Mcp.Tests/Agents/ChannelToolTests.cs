using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>
/// The channel tools of <c>/w/{workspace}/mcp</c> through the official C# SDK client: a channel configured with
/// <c>config_set</c>, a send the outbound guard refuses recorded as failed with its error and shown in the status and the
/// history; the scope <c>channels_action</c> needs; and one workspace never seeing or using another's channel.
/// </summary>
public sealed class ChannelToolTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private const string Channel = """{"path": "channels.hooks", "value": {"kind": "webhook", "allow": ["*"], "url": "http://127.0.0.1:9/hook", "signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}""";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_refused_send_is_failed_with_its_error_in_the_status_and_the_history_and_other_workspaces_see_none_of_it(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, [.. Scopes.All]));
        (await client.CallAsync("config_set", Channel)).IsError.ShouldNotBe(true);

        var before = Read(await client.CallAsync("channels_status"), KennelJson.Default.ChannelStatusList).Channels.Single();
        (before.Name, before.Kind, before.Health, before.Allowed).ShouldBe(("hooks", "webhook", "no_traffic", 1));

        // Loopback is not a public address: the guard refuses it, for good, and says so.
        var sent = Read(await client.CallAsync("channels_action", """{"channel": "hooks", "action": "send", "chat": "ops", "text": "hello"}"""),
            KennelJson.Default.ChannelActionResult);
        sent.Status.ShouldBe("failed");
        sent.Error.ShouldNotBeNullOrEmpty();
        var status = await client.CallAsync("channels_status");
        status.Text().ShouldContain("failing");
        var after = Read(status, KennelJson.Default.ChannelStatusList).Channels.Single();
        (after.Health, after.Failed, after.LastError).ShouldBe(("failing", 1L, sent.Error));
        var history = Read(await client.CallAsync("channels_history", """{"query": "HELLO", "direction": "out"}"""), KennelJson.Default.ChannelMessagePage);
        history.Items.Single().Error.ShouldBe(sent.Error);

        var other = AgentMcp.NewWorkspace();
        await using var stranger = await server.ConnectAgentAsync(other, await server.NewKeyAsync(other, [.. Scopes.All]));
        Read(await stranger.CallAsync("channels_history", """{"query": "hello"}"""), KennelJson.Default.ChannelMessagePage).Items.ShouldBeEmpty();
        Read(await stranger.CallAsync("channels_status"), KennelJson.Default.ChannelStatusList).Channels.ShouldBeEmpty();
        (await stranger.CallAsync("channels_action", """{"channel": "hooks", "action": "send", "chat": "ops", "text": "x"}""")).Failure().Error.ShouldBe("not_found");

        await using var reader = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read));
        (await reader.CallAsync("channels_action", """{"channel": "hooks", "action": "send", "chat": "ops", "text": "x"}""")).Failure().Error
            .ShouldBe("insufficient_scope");
        Read(await reader.CallAsync("channels_history"), KennelJson.Default.ChannelMessagePage).Items.Count.ShouldBe(1);
    }

    private static T Read<T>(CallToolResult result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json)
    {
        result.IsError.ShouldNotBe(true, result.Text());
        return result.StructuredContent!.Value.Deserialize(json)!;
    }
}
