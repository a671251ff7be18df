using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Replicas;

/// <summary>Several control planes on one PostgreSQL: one queue, no session claimed twice or lost between them.</summary>
public sealed class SharedPostgresTests
{
    [Fact]
    public Task Two_control_planes_on_one_database_run_every_session_once_whichever_replica_is_asked() =>
        WithTwoReplicasAsync(async (first, second) =>
        {
            using var viaFirst = first.Client();
            using var viaSecond = second.Client(first.AdminKey);

            var created = new List<Session>();
            for (var i = 0; i < 30; i++)
            {
                created.Add(await (i % 2 == 0 ? viaFirst : viaSecond).RunScriptAsync($"echo run-{i}"));
            }

            for (var i = 0; i < created.Count; i++)
            {
                // Waited on through the other replica than the one that queued it.
                var done = await (i % 2 == 0 ? viaSecond : viaFirst).WaitAsync(created[i].Id);
                done.Status.ShouldBe(SessionStatus.Succeeded, done.Error?.Message);
                done.Stdout.ShouldBe($"run-{i}\n");
            }
            var workers = await viaFirst.GetFromJsonAsync("/v1/workers", KennelJson.Default.IReadOnlyListWorker);
            workers!.Count(w => w.Kind == "embedded" && w.Health == "healthy").ShouldBe(2, "each replica's embedded worker is a worker of its own");
            var page = await viaSecond.GetFromJsonAsync("/v1/sessions?limit=50", KennelJson.Default.SessionPage);
            page!.Items.Select(s => s.Id).ShouldBe(created.Select(s => s.Id).Reverse(), "both replicas list the one queue");
        });

    [Fact]
    public Task A_key_revoked_through_one_control_plane_is_refused_at_once_by_the_other() =>
        WithTwoReplicasAsync(async (first, second) =>
        {
            using var admin = first.Client();
            var created = await admin.CreateApiKeyAsync(null, Kennel.Contracts.ApiKeys.Scopes.Read);
            using var viaSecond = second.Client(created.Key);
            (await viaSecond.ListSessionsAsync()).ShouldNotBeNull();

            using var revoke = await admin.PostAsync($"/v1/apikeys/{created.ApiKey.Id}/revoke", null);
            revoke.EnsureSuccessStatusCode();

            using var refused = await viaSecond.GetAsync("/v1/sessions");
            await refused.ShouldBeProblemAsync(401, "unauthorized");
        });

    private static async Task WithTwoReplicasAsync(Func<TestServer, TestServer, Task> test)
    {
        var database = await TestStore.CreateDatabaseAsync();
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-replicas-");
        try
        {
            await using var first = await TestServer.StartAsync(TestStore.Postgres, dataDir: dataDir.FullName, databaseUrl: database);
            await using var second = await TestServer.StartAsync(TestStore.Postgres, dataDir: dataDir.FullName, databaseUrl: database);
            await test(first, second);
        }
        finally
        {
            await TestStore.DropDatabaseAsync(database);
            dataDir.Delete(recursive: true);
        }
    }
}
