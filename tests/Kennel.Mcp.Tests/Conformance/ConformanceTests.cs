using System.Diagnostics;
using System.Text.RegularExpressions;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.Conformance;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c> 0.1.16 on Node 22, installed by
/// <c>scripts/test.sh</c>) against <see cref="McpEndpoints"/>: every server scenario against the fixtures server,
/// those a stateless server can pass against its stateless endpoint, and the scenarios that need no fixtures against
/// the real <c>/mcp</c>.
/// </summary>
public sealed partial class ConformanceTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    /// <summary>Every server scenario of 0.1.16 (<c>conformance list --server</c>), the pending ones included.</summary>
    private static readonly string[] AllScenarios =
    [
        "server-initialize", "logging-set-level", "ping", "completion-complete", "tools-list",
        "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource",
        "tools-call-mixed-content", "tools-call-with-logging", "tools-call-error", "tools-call-with-progress",
        "tools-call-sampling", "tools-call-elicitation", "json-schema-2020-12", "elicitation-sep1034-defaults",
        "server-sse-multiple-streams", "elicitation-sep1330-enums", "resources-list", "resources-read-text",
        "resources-read-binary", "resources-templates-read", "resources-subscribe", "resources-unsubscribe",
        "prompts-list", "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource",
        "prompts-get-with-image", "dns-rebinding-protection", "server-sse-polling",
    ];

    public static TheoryData<string> FixtureScenarios => [.. AllScenarios];

    /// <summary>Server scenarios not run, each with the reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> Excluded = new Dictionary<string, string>
    {
    };

    /// <summary>The scenarios that need no fixture tools, resources or prompts.</summary>
    public static readonly TheoryData<string> ProductScenarios =
    [
        "server-initialize", "ping", "tools-list", "logging-set-level", "server-sse-multiple-streams", "dns-rebinding-protection",
    ];

    /// <summary>
    /// Server scenarios the stateless fixtures endpoint cannot pass, each with the reason: a stateless server has no
    /// session to send requests to the client on, and no stream to resume.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> StatelessExcluded = new Dictionary<string, string>
    {
        ["tools-call-sampling"] = "sampling is a request from the server to the client, which needs a session",
        ["tools-call-elicitation"] = "elicitation is a request from the server to the client, which needs a session",
        ["elicitation-sep1034-defaults"] = "elicitation is a request from the server to the client, which needs a session",
        ["elicitation-sep1330-enums"] = "elicitation is a request from the server to the client, which needs a session",
        ["server-sse-polling"] = "polling resumes a stream with Last-Event-ID, which needs the session's stored events",
    };

    public static TheoryData<string> StatelessScenarios => [.. AllScenarios.Except(StatelessExcluded.Keys)];

    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(FixtureScenarios))]
    public async Task The_fixtures_server_passes(string scenario)
    {
        await using var fixtures = await FixturesServer.StartAsync();
        await RunAsync(fixtures.Url, scenario);
    }

    [Theory]
    [MemberData(nameof(StatelessScenarios))]
    public async Task The_stateless_fixtures_endpoint_passes(string scenario)
    {
        await using var fixtures = await FixturesServer.StartAsync();
        await RunAsync(fixtures.StatelessUrl, scenario);
    }

    [Theory]
    [MemberData(nameof(ProductScenarios))]
    public async Task The_real_mcp_endpoint_passes(string scenario)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        // The CLI cannot send Authorization; the proxy adds the admin key and forwards everything else as sent.
        await using var proxy = await AuthorizingProxy.StartAsync(new Uri(server.Url, "/mcp"), server.AdminKey);
        await RunAsync(proxy.Url, scenario);
    }

    [Fact]
    public async Task Every_server_scenario_of_the_suite_is_run_or_excluded_with_a_reason()
    {
        var (node, conformance) = Tooling();
        var (exitCode, output) = await RunProcessAsync(node, [conformance, "list", "--server"]);
        exitCode.ShouldBe(0, output);
        var listed = output.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("- ", StringComparison.Ordinal))
            .Select(line => line[2..].Split(' ')[0])
            .ToHashSet(StringComparer.Ordinal);
        var covered = AllScenarios.Concat(Excluded.Keys).ToHashSet(StringComparer.Ordinal);
        listed.ShouldNotBeEmpty(output);
        listed.Except(covered).ShouldBeEmpty("scenarios the suite lists that this test neither runs nor excludes");
    }

    private static async Task RunAsync(Uri url, string scenario)
    {
        var (node, conformance) = Tooling();
        var (exitCode, output) = await RunProcessAsync(node, [conformance, "server", "--url", url.ToString(), "--scenario", scenario]);
        exitCode.ShouldBe(0, $"conformance scenario {scenario} against {url} failed:\n{output}");
    }

    /// <summary>Node 22 and the suite's <c>dist/index.js</c>, from the variables <c>scripts/test.sh</c> exports.</summary>
    private static (string Node, string Conformance) Tooling()
    {
        var node = Environment.GetEnvironmentVariable("KENNEL_TEST_NODE22");
        var conformance = Environment.GetEnvironmentVariable("KENNEL_TEST_CONFORMANCE");
        if (string.IsNullOrEmpty(node) || string.IsNullOrEmpty(conformance) || !File.Exists(node) || !File.Exists(conformance))
        {
            Assert.Fail(
                "The MCP conformance suite is not installed: KENNEL_TEST_NODE22 (Node 22) and KENNEL_TEST_CONFORMANCE "
                + "(@modelcontextprotocol/conformance's dist/index.js) must name existing files. Run the tests through "
                + $"scripts/test.sh, which installs both under .tools/node and exports them (now: '{node}', '{conformance}').");
        }
        return (node, conformance);
    }

    private static async Task<(int ExitCode, string Output)> RunProcessAsync(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ScenarioTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, Colors().Replace($"timed out after {ScenarioTimeout}\n{await stdout}\n{await stderr}", ""));
        }
        return (process.ExitCode, Colors().Replace($"{await stdout}\n{await stderr}", ""));
    }

    /// <summary>The suite colours its report with ANSI escapes, which only clutter a test failure.</summary>
    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Colors();
}
