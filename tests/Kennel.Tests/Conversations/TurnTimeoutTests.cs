using Kennel.Agents.Runtime;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.Testing;

namespace Kennel.Tests.Conversations;

/// <summary>Servers whose turns may last 2 s.</summary>
public sealed class ShortTurnServers() : ChatServers(new TurnLimits { Timeout = TimeSpan.FromSeconds(2), MaxToolSteps = 4, MaxToolResultChars = 2000 });

public sealed class TurnTimeoutTests(ShortTurnServers servers) : IClassFixture<ShortTurnServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_turn_that_outlasts_its_timeout_ends_timed_out_with_what_it_had_said(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Chat);
        servers.Model.ThenTextAndHang("Thinking out loud");

        var run = await client.SendAsync("main", "take forever");

        run.Status.ShouldBe(RunStatus.TimedOut);
        run.Error!.Code.ShouldBe("turn_timeout");
        run.Error.Message.ShouldContain("KENNEL_AGENT_TURN_TIMEOUT_SECONDS");
        run.Answer.ShouldBe("Thinking out loud");
        (await client.HistoryAsync(run.ConversationId)).Items[^1].Partial.ShouldBe(true);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_tool_still_running_at_the_timeout_has_its_session_cancelled(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "sleep 600"));

        var run = await client.SendAsync("main", "sleep past the limit");

        run.Status.ShouldBe(RunStatus.TimedOut);
        var history = await client.HistoryAsync(run.ConversationId);
        var session = await client.WaitAsync(history.Items.Single(e => e.Kind == TranscriptKinds.ToolCall).SessionId!, TimeSpan.FromSeconds(10));
        session.Status.ShouldBe(Contracts.Sessions.SessionStatus.Cancelled);
        history.Items[^1].Kind.ShouldBe(TranscriptKinds.ToolResult);
        history.Items[^1].IsError.ShouldBe(true);
    }
}
