using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests.ControlPlane;

/// <summary>
/// <c>kill -9</c> of <c>kennel serve</c> while a run waits on its <c>exec</c> tool: after a restart the run finishes from
/// its transcript, the tool's session is the one that was started (never a second), and each committed step is there once.
/// </summary>
public sealed class RunRestartTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_run_waiting_on_exec_when_the_control_plane_dies_finishes_after_the_restart(string store)
    {
        await using var model = await ScriptedProvider.StartAsync();
        model.ThenEvents(ModelScript.Exec("call_1", "sleep 30; echo never")).ThenEvents(ModelScript.Answer("The sandbox was lost; I did not get its output."));
        await using var serve = await ServeProcess.StartAsync(store, new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = new Uri(model.Url, "v1").ToString(),
            ["KENNEL_LEASE_TTL_SECONDS"] = "3",
        });
        using var client = serve.Client();
        var run = await client.SendAsync("main", "run the long job", waitMs: 0);
        var call = await client.WaitForEntryAsync(run.ConversationId, entry => entry.Kind == TranscriptKinds.ToolCall);
        // The call's session id is committed before the session is created, so it may not exist for a moment.
        while ((await client.GetAsync($"/v1/sessions/{call.SessionId}")).StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await Task.Delay(50);
        }
        await client.UntilStatusAsync(call.SessionId!, SessionStatus.Running);

        await serve.KillHardAsync();
        await serve.RestartAsync();

        using var after = serve.Client();
        var finished = await after.GetRunAsync(run.Id, waitMs: 60_000);
        finished.Status.ShouldBe(RunStatus.Succeeded);
        finished.Answer.ShouldBe("The sandbox was lost; I did not get its output.");
        var history = await after.HistoryAsync(run.ConversationId);
        history.Items.Select(entry => entry.Kind).ShouldBe(["user", "tool_call", "tool_result", "assistant"]);
        history.Items.Select(entry => entry.Seq).ShouldBe([1L, 2L, 3L, 4L]);
        history.Items[2].SessionId.ShouldBe(call.SessionId);
        history.Items[2].Text!.ShouldContain("status: failed");
        // The tool's session ran once: it is the only session, and the resumed run waited for it instead of starting another.
        var sessions = (await after.GetFromJsonAsync("/v1/sessions", KennelJson.Default.SessionPage))!;
        sessions.Items.ShouldHaveSingleItem().Id.ShouldBe(call.SessionId);
        sessions.Items[0].Error!.Code.ShouldBe("worker_lost");
        model.Requests.Count.ShouldBe(2);
    }
}
