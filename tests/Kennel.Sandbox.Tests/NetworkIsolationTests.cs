using System.Net;
using System.Net.Sockets;

namespace Kennel.Sandbox.Tests;

public sealed class NetworkIsolationTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>
{
    private readonly SandboxHost _host = sandbox.Host;

    [Fact]
    public async Task Only_loopback_exists()
    {
        var run = await _host.RunAsync("cat /proc/net/dev");

        run.ExitCode.ShouldBe(0, run.Stderr);
        var interfaces = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).Select(l => l.Split(':')[0].Trim());
        interfaces.ShouldBe(["lo"]);
    }

    [Fact]
    public async Task Cannot_reach_a_listener_on_the_hosts_loopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var run = await _host.RunAsync($"bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}' && echo connected");

        run.ExitCode.ShouldNotBe(0);
        run.Stdout.ShouldNotContain("connected");
        run.Stderr.ShouldContain("Connection refused");
        listener.Pending().ShouldBeFalse();
    }
}
