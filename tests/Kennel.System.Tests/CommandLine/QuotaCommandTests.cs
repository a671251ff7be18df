using System.Text.Json;
using Kennel.Contracts;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel quota …</c> as an installation admin types it, against a real <c>kennel serve</c>.</summary>
public sealed class QuotaCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task An_admin_sets_a_workspace_quota_shows_it_and_resets_it_to_the_defaults()
    {
        var workspace = $"cli-q-{Guid.NewGuid():N}"[..20];
        await Serve.CliSucceedsAsync("apikey", "create", "--workspace", workspace, "--name", "quota-owner");

        var set = await Serve.CliSucceedsAsync("quota", "set", workspace, "--max-running-sessions", "4", "--max-queued-sessions", "0", "--json");
        var quota = JsonSerializer.Deserialize(set.Stdout, KennelJson.Default.WorkspaceQuota)!;
        quota.Limits.MaxRunningSessions.ShouldBe(4);
        quota.Limits.MaxQueuedSessions.ShouldBeNull();
        quota.Overridden.ShouldBe(["maxRunningSessions", "maxQueuedSessions"]);

        var table = (await Serve.CliSucceedsAsync("quota", "show", workspace)).Stdout;
        table.ShouldContain($"Workspace '{workspace}'");
        table.ShouldMatch(@"running sessions\s+4\s+workspace\s+0");
        table.ShouldMatch(@"queued sessions\s+none\s+workspace");
        table.ShouldMatch(@"vcpus\s+none\s+default");

        await Serve.CliSucceedsAsync("quota", "set", workspace);
        (await Serve.CliSucceedsAsync("quota", "show", workspace)).Stdout.ShouldMatch(@"queued sessions\s+1000\s+default");
        (await Serve.CliSucceedsAsync("quota", "show")).Stdout.ShouldContain("Workspace 'default'");

        var bad = await Serve.CliAsync("quota", "set", workspace, "--max-vcpus", "-2");
        bad.ExitCode.ShouldBe(1, bad.ToString());
        bad.Stderr.ShouldContain("(field: maxVcpus) [invalid_request]");
    }
}
