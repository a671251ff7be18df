using System.Net;
using System.Net.Sockets;
using Kennel.Sandbox.Network;
using Kennel.Testing.Egress;

namespace Kennel.Sandbox.Tests.Egress;

public sealed class EgressTests(EgressSandbox sandbox) : IClassFixture<EgressSandbox>
{
    private static readonly string[] Allow = ["allowed.test", "plain.test:80", "*.wild.test", "private.test", "rebind.test", "meta.test", "host.test:80", "v6.test"];

    [Fact]
    public async Task Allowed_names_are_reached_over_https_and_http_and_the_bytes_are_counted()
    {
        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec(
            "curl -sSk https://allowed.test/a && curl -sS http://plain.test/b && curl -sSk https://x.wild.test/c", Allow));

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("https allowed.test /a\nhttp plain.test /b\nhttps x.wild.test /c\n");
        var usage = run.Exit.Egress.ShouldNotBeNull();
        usage.BytesIn.ShouldBeGreaterThan(run.Stdout.Length);
        usage.BytesOut.ShouldBeGreaterThan(0);
        usage.Refused.ShouldBe(0);
    }

    [Fact]
    public async Task A_name_not_in_the_list_is_refused_with_a_403_that_names_the_rule_and_is_recorded()
    {
        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec("curl -sSk https://other.test/; curl -sS -i http://other.test/", Allow));

        run.Stderr.ShouldContain("CONNECT tunnel failed, response 403");
        run.Stdout.ShouldContain("HTTP/1.1 403 Forbidden");
        run.Stdout.ShouldContain("X-Kennel-Egress-Rule: not-in-allowlist");
        run.Stdout.ShouldContain("refused other.test:80");
        var usage = run.Exit.Egress.ShouldNotBeNull();
        usage.Refused.ShouldBe(2);
        usage.Refusals.ShouldBe([new EgressRefusal("other.test", 443, "not-in-allowlist"), new EgressRefusal("other.test", 80, "not-in-allowlist")]);
    }

    [Theory]
    [InlineData("raw IP, direct", "curl -sf --noproxy '*' -m 5 http://{internet}/", null)]
    [InlineData("raw IP, through the proxy", "curl -sf -m 5 http://{internet}/", "raw-ip")]
    [InlineData("metadata address, direct", "curl -sf --noproxy '*' -m 5 http://169.254.169.254/", null)]
    [InlineData("metadata address, through the proxy", "curl -sf -m 5 http://169.254.169.254/latest/meta-data/", "raw-ip")]
    [InlineData("metadata address, by a listed name", "curl -sfk -m 5 https://meta.test/", "link-local")]
    [InlineData("the control plane's port, on the proxy's address", "p=${HTTP_PROXY#http://}; curl -sf --noproxy '*' -m 5 http://${p%:*}:{port}/", null)]
    [InlineData("the control plane's port, on the host's address", "curl -sf --noproxy '*' -m 5 http://{host}:{port}/", null)]
    [InlineData("the worker's own address, by a listed name", "curl -sf -m 5 http://host.test/", "kennel-host")]
    [InlineData("loopback, direct", "curl -sf --noproxy '*' -m 5 http://127.0.0.1:{port}/", null)]
    [InlineData("loopback, through the proxy", "curl -sf -m 5 --noproxy '' -x $HTTP_PROXY http://127.0.0.1:{port}/", "raw-ip")]
    [InlineData("a private range", "curl -sfk -m 5 https://private.test/", "private")]
    [InlineData("DNS rebinding: a listed name that resolves to private addresses", "curl -sfk -m 5 https://rebind.test/", "private")]
    [InlineData("UDP", "bash -c 'echo hello > /dev/udp/{internet}/53'", null)]
    [InlineData("IPv6, direct", "curl -sf -g --noproxy '*' -m 5 'http://[2001:db8::1]/'", null)]
    [InlineData("IPv6 loopback, by a listed name", "curl -sfk -m 5 https://v6.test/", "loopback")]
    [InlineData("CONNECT to a port not listed", "curl -sfk -m 5 https://allowed.test:8443/", "not-in-allowlist")]
    public async Task Escapes_are_refused(string escape, string script, string? rule)
    {
        using var controlPlane = new TcpListener(IPAddress.Any, 0);
        controlPlane.Start();
        var port = ((IPEndPoint)controlPlane.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var filled = script.Replace("{internet}", sandbox.Internet.Address.ToString(), StringComparison.Ordinal)
            .Replace("{host}", sandbox.Internet.HostAddress.ToString(), StringComparison.Ordinal)
            .Replace("{port}", port, StringComparison.Ordinal);

        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec($"{filled} && echo REACHED", Allow));

        run.Stdout.ShouldNotContain("REACHED", customMessage: escape);
        run.ExitCode.ShouldNotBe(0, escape);
        controlPlane.Pending().ShouldBeFalse(escape);
        var refusals = run.Exit.Egress.ShouldNotBeNull().Refusals;
        if (rule is null)
        {
            // Never reached the proxy: the sandbox has no route but to it.
            refusals.Count.ShouldBe(0, escape);
        }
        else
        {
            refusals.Select(r => r.Rule).ToList().ShouldBe(new List<string> { rule }, escape);
        }
    }

    [Fact]
    public async Task Open_mode_reaches_any_name_but_still_no_forbidden_address()
    {
        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec("curl -sSk https://other.test/o; curl -sf -m 5 http://private.test:8080/ || echo refused", null));

        run.Stdout.ShouldBe("https other.test /o\nrefused\n", run.Stderr);
        run.Exit.Egress.ShouldNotBeNull().Refusals.ShouldBe([new EgressRefusal("private.test", 8080, "private")]);
    }

    [Fact]
    public async Task The_byte_cap_cuts_the_session_off_and_refuses_what_follows()
    {
        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec(
            "curl -sSk https://allowed.test/big -o /dev/null; echo \"first $?\"; curl -sSk https://allowed.test/a; echo \"second $?\"", ["allowed.test"],
            byteCap: 16 * 1024));

        run.Stdout.ShouldNotContain("first 0");
        run.Stdout.ShouldNotContain("second 0");
        var usage = run.Exit.Egress.ShouldNotBeNull();
        (usage.BytesIn + usage.BytesOut).ShouldBeGreaterThanOrEqualTo(16 * 1024);
        usage.BytesIn.ShouldBeLessThan(TestInternet.BigBytes);
        usage.Refusals.ShouldBe([new EgressRefusal("allowed.test", 443, "byte-cap")]);
    }

    [Fact]
    public async Task The_proxy_variables_are_set_in_the_sandbox()
    {
        var run = await sandbox.Host.RunAsync(EgressSandbox.Spec("echo $HTTPS_PROXY; echo $https_proxy; echo $NO_PROXY", Allow));

        var lines = run.Stdout.Split('\n');
        lines[0].ShouldMatch(@"^http://10\.213\.\d+\.\d+:3128$");
        lines[1].ShouldBe(lines[0]);
        lines[2].ShouldBe("localhost,127.0.0.1,::1");
    }

    [Fact]
    public async Task No_namespace_or_veth_is_left_after_many_sessions_including_killed_ones()
    {
        for (var i = 0; i < 24; i++)
        {
            await using var process = await sandbox.Host.Runtime.StartAsync(EgressSandbox.Spec(i % 3 == 0 ? "sleep 30" : "curl -sSk https://allowed.test/", Allow),
                CancellationToken.None);
            if (i % 3 == 0)
            {
                await process.KillAsync();
            }
            await SandboxHost.CollectAsync(process);
        }

        var hub = sandbox.Egress.Namespaces().ShouldHaveSingleItem();
        hub.ShouldEndWith("h");
        // The kernel destroys a deleted namespace, and the veth pair with it, in the background.
        var links = await Ip("-n", hub, "-o", "link", "show");
        for (var wait = 0; wait < 100 && links.Contains("@if", StringComparison.Ordinal); wait++)
        {
            await Task.Delay(100);
            links = await Ip("-n", hub, "-o", "link", "show");
        }
        links.Trim().Split('\n').ShouldHaveSingleItem().ShouldContain("lo:");
    }

    private static async Task<string> Ip(params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", arguments) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
