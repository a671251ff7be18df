using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary>How the CLI finds Kennel and its key, and what it says when it cannot.</summary>
public sealed class EnvironmentTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task Without_KENNEL_API_KEY_or_a_key_file_the_CLI_exits_2_naming_the_variable()
    {
        var empty = Directory.CreateTempSubdirectory("kennel-system-nokey-");
        try
        {
            var result = await Cli.RunAsync(new Dictionary<string, string?>
            {
                ["KENNEL_URL"] = Serve.Url.ToString(),
                ["KENNEL_DATA_DIR"] = empty.FullName,
            }, "session", "list");

            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.ShouldContain("KENNEL_API_KEY");
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_KENNEL_API_KEY_the_CLI_uses_the_admin_key_file_in_KENNEL_DATA_DIR()
    {
        var result = await Cli.RunAsync(new Dictionary<string, string?>
        {
            ["KENNEL_URL"] = Serve.Url.ToString(),
            ["KENNEL_DATA_DIR"] = Serve.DataDir,
        }, "session", "run", "--", "echo", "from-file-key");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.ShouldBe("from-file-key\n");
    }

    [Theory]
    [InlineData("session", "list")]
    [InlineData("session", "run", "--", "echo", "hello")]
    [InlineData("apikey", "list")]
    [InlineData("worker", "list")]
    public async Task An_unreachable_KENNEL_URL_exits_1_with_a_message(params string[] args)
    {
        var url = $"http://127.0.0.1:{LoopbackPort.Free()}";

        var result = await Cli.RunAsync(new Dictionary<string, string?> { ["KENNEL_URL"] = url, ["KENNEL_API_KEY"] = "kn_unused" }, args);

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("Cannot reach Kennel");
        result.Stderr.ShouldContain(url);
    }

    [Fact]
    public async Task A_KENNEL_URL_that_is_not_a_URL_is_a_usage_error()
    {
        var result = await Cli.RunAsync(new Dictionary<string, string?> { ["KENNEL_URL"] = "localhost:4000", ["KENNEL_API_KEY"] = "kn_unused" },
            "session", "list");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Stderr.ShouldContain("KENNEL_URL");
    }

    [Theory]
    [InlineData("", "serve", "worker", "session", "apikey")]
    [InlineData("session", "run", "list", "get", "cancel", "wait")]
    [InlineData("session run", "--script", "--env", "--timeout", "--vcpus", "--memory-mb", "--detach", "--json", "--snapshot")]
    [InlineData("session list", "--status", "--limit", "--cursor", "--json")]
    [InlineData("apikey", "create", "list", "revoke")]
    [InlineData("apikey create", "--name", "--workspace", "--scopes", "--json")]
    [InlineData("worker", "--url", "--token", "--name", "--vcpus", "--memory-mb", "--slots", "--data-dir", "token", "list")]
    [InlineData("worker token", "create")]
    [InlineData("worker token create", "--ttl", "--json")]
    public async Task Help_at_every_level_lists_what_is_there(string command, params string[] expected)
    {
        var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("--help").ToArray();

        var result = await Cli.RunAsync(new Dictionary<string, string?>(), args);

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.ShouldContain("Usage:");
        foreach (var word in expected)
        {
            result.Stdout.ShouldContain(word);
        }
    }
}
