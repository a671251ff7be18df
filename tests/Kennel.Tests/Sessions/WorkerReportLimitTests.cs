using System.Net;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Workers;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary>The worker protocol's reports have a body limit of their own, above the public API's, and still a limit.</summary>
public sealed class WorkerReportLimitTests
{
    [Fact]
    public async Task A_report_over_the_public_body_limit_is_taken_and_one_over_the_protocols_is_a_413()
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        using var worker = await ProtocolWorker.EnrollAsync(admin, new WorkerCapacity(2, 1024, 1));
        using var tenant = await server.NewWorkspaceClientAsync();
        var session = await tenant.RunScriptAsync("echo big");
        (await worker.PollAsync()).ShouldHaveSingleItem().SessionId.ShouldBe(session.Id);

        var overPublic = new string('a', (int)server.Settings.MaxBodyBytes + 1024);
        using (var taken = await worker.SendReportAsync(session.Id, new SessionReport { Output = [new OutputChunk("stdout", 0, overPublic)] }))
        {
            taken.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var overProtocol = new string('b', (int)WorkerEndpoints.WorkerProtocolBodyLimit + 1024);
        using var refused = await worker.SendReportAsync(session.Id, new SessionReport { Output = [new OutputChunk("stdout", 0, overProtocol)] });
        refused.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
    }
}
