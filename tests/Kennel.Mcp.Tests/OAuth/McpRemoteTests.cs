using System.Diagnostics;
using Kennel.Contracts.Users;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.OAuth;

/// <summary>
/// <c>mcp-remote</c> 0.15.1 (its <c>mcp-remote-client</c>, which connects, lists the tools and exits) completes the
/// OAuth flow headlessly: a fake <c>xdg-open</c> first on PATH hands the authorization URL to the test, which signs in
/// and consents like a person would and then follows the redirect to mcp-remote's loopback callback.
/// </summary>
public sealed class McpRemoteTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Mcp_remote_registers_authorizes_and_lists_the_tools(string store)
    {
        var (node, client) = Tooling();
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"r-{Guid.NewGuid():N}"[..16], Roles.Member);
        var home = Directory.CreateTempSubdirectory("kennel-mcp-remote-");
        try
        {
            var opened = Path.Combine(home.FullName, "opened-urls");
            var browser = Path.Combine(home.FullName, "xdg-open");
            await File.WriteAllTextAsync(browser, $"#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{opened}'\n");
            File.SetUnixFileMode(browser, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            // stdin stays open until the client exits: it shuts down when its stdin ends.
            var start = new ProcessStartInfo(node) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { client, new Uri(server.Url, "/mcp").ToString() })
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["PATH"] = $"{home.FullName}:{Environment.GetEnvironmentVariable("PATH")}";
            start.Environment["BROWSER"] = browser;
            start.Environment["MCP_REMOTE_CONFIG_DIR"] = Path.Combine(home.FullName, "config");
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(Timeout);
            try
            {
                var authorizationUrl = await WaitForUrlAsync(opened, deadline.Token);
                using var person = new OAuthBrowser(server.Url);
                var callback = await person.AuthorizeAsync(authorizationUrl, email, OAuthClientSteps.Password);
                OAuthBrowser.Query(callback, "code").ShouldNotBeNull(callback.ToString());
                using (var http = new HttpClient())
                {
                    using var delivered = await http.GetAsync(callback, deadline.Token);
                    delivered.IsSuccessStatusCode.ShouldBeTrue(await delivered.Content.ReadAsStringAsync(deadline.Token));
                }
                await process.WaitForExitAsync(deadline.Token);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            var output = $"{await stdout}\n{await stderr}";
            process.ExitCode.ShouldBe(0, output);
            output.ShouldContain("list-sessions");
            OAuthBrowser.Query(new Uri((await File.ReadAllLinesAsync(opened))[0]), "client_id")!.ShouldStartWith("mcp_");
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private static async Task<Uri> WaitForUrlAsync(string file, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (File.Exists(file) && (await File.ReadAllLinesAsync(file, cancellationToken)).FirstOrDefault(l => l.Length > 0) is { } line)
            {
                return new Uri(line);
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Node 22 and mcp-remote's <c>dist/client.js</c>, from the variables <c>scripts/test.sh</c> exports.</summary>
    private static (string Node, string Client) Tooling()
    {
        var node = Environment.GetEnvironmentVariable("KENNEL_TEST_NODE22");
        var client = Environment.GetEnvironmentVariable("KENNEL_TEST_MCP_REMOTE");
        if (string.IsNullOrEmpty(node) || string.IsNullOrEmpty(client) || !File.Exists(node) || !File.Exists(client))
        {
            Assert.Fail("mcp-remote is not installed: KENNEL_TEST_NODE22 (Node 22) and KENNEL_TEST_MCP_REMOTE (mcp-remote's dist/client.js) "
                + $"must name existing files. Run the tests through scripts/test.sh, which installs both under .tools/node (now: '{node}', '{client}').");
        }
        return (node, client);
    }
}
