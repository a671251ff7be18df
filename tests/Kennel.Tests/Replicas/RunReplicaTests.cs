using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Runs;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Replicas;

/// <summary>Agent runs with two control planes on one PostgreSQL: a cancel asked of one stops a run the other executes.</summary>
public sealed class RunReplicaTests
{
    [Fact]
    public async Task A_run_executing_on_one_control_plane_is_stopped_by_a_cancel_sent_to_the_other()
    {
        await using var model = await ScriptedProvider.StartAsync();
        model.ThenEvents(ModelScript.Exec("call_1", "sleep 600"));
        var chat = new ChatServersConfiguration(model);
        var database = await TestStore.CreateDatabaseAsync();
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-run-replicas-");
        try
        {
            await using var first = await TestServer.StartAsync(TestStore.Postgres, chat.Configure, dataDir: dataDir.FullName, databaseUrl: database);
            await using var second = await TestServer.StartAsync(TestStore.Postgres, chat.Configure, dataDir: dataDir.FullName, databaseUrl: database);
            using var client = first.Client();
            var run = await client.SendAsync("main", "sleep", waitMs: 0);
            var call = await client.WaitForEntryAsync(run.ConversationId, entry => entry.Kind == TranscriptKinds.ToolCall);
            var executor = first.Server.Services.GetRequiredService<LiveRuns>().IsExecuting(run.Id) ? first : second;
            var other = executor == first ? second : first;

            using var viaOther = other.Client(first.AdminKey);
            using var cancel = await viaOther.PostAsync($"/v1/runs/{run.Id}/cancel", null);
            cancel.EnsureSuccessStatusCode();

            var ended = await viaOther.GetRunAsync(run.Id, waitMs: 30_000);
            ended.Status.ShouldBe(RunStatus.Cancelled);
            var session = await viaOther.WaitAsync(call.SessionId!, TimeSpan.FromSeconds(30));
            session.Status.ShouldBe(SessionStatus.Cancelled);
        }
        finally
        {
            await TestStore.DropDatabaseAsync(database);
            dataDir.Delete(recursive: true);
        }
    }

    private sealed class ChatServersConfiguration(ScriptedProvider model)
    {
        public Kennel.ControlPlane.Hosting.KennelSettings Configure(Kennel.ControlPlane.Hosting.KennelSettings settings) => settings with
        {
            Providers = [new Kennel.Agents.Providers.ProviderSettings("openai", Kennel.Agents.Providers.ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test")],
        };
    }
}
