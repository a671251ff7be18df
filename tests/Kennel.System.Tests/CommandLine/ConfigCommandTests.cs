using System.Text.Json;
using Kennel.Contracts;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel config …</c>, <c>kennel agent list</c> and <c>kennel model list</c> as a person types them, against a real <c>kennel serve</c>.</summary>
public sealed class ConfigCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task Config_is_set_read_listed_rolled_back_and_shapes_the_agents()
    {
        var set = await Serve.CliSucceedsAsync("config", "set", "agents.main.thinking", "low");
        set.Stdout.ShouldStartWith("version ");
        set.Stdout.ShouldContain("changed agents");
        var first = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("config", "get", "--json")).Stdout, KennelJson.Default.ConfigValue)!;
        var key = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "sk-cli-secret\n", "config", "set", "providers.openai", "-");
        key.ExitCode.ShouldBe(1, key.ToString());
        key.Stderr.ShouldContain("providers.openai");
        var provider = await Serve.CliSucceedsAsync("config", "set", "providers.openai", """{"kind": "openai"}""", "--base-hash", first.Hash);
        provider.Stdout.ShouldContain("changed providers");
        var apiKey = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "sk-cli-secret\n", "config", "set", "providers.openai.apiKey", "-");
        apiKey.ExitCode.ShouldBe(0, apiKey.ToString());

        var get = await Serve.CliSucceedsAsync("config", "get", "providers.openai");
        get.Stdout.ShouldContain("\"secretSet\": true");
        get.Stdout.ShouldNotContain("sk-cli-secret");
        get.Stderr.ShouldContain("hash ");
        var stale = await Serve.CliAsync("config", "set", "agents.main.thinking", "high", "--base-hash", first.Hash);
        stale.ExitCode.ShouldBe(1, stale.ToString());
        stale.Stderr.ShouldContain("config_conflict");
        var bad = await Serve.CliAsync("config", "set", "agents.main.thinking", "extreme");
        bad.ExitCode.ShouldBe(1, bad.ToString());
        bad.Stderr.ShouldContain("agents.main.thinking");

        var agents = (await Serve.CliSucceedsAsync("agent", "list")).Stdout;
        agents.ShouldContain("main");
        agents.ShouldContain("openai/gpt-5-mini");
        agents.ShouldContain("low");
        var models = (await Serve.CliSucceedsAsync("model", "list")).Stdout;
        models.ShouldContain("anthropic/claude-sonnet-4-5");
        models.ShouldContain("CACHE WRITE");
        var versions = (await Serve.CliSucceedsAsync("config", "versions")).Stdout;
        versions.ShouldContain("providers.openai.apiKey");

        var rolledBack = await Serve.CliSucceedsAsync("config", "rollback", first.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        rolledBack.Stdout.ShouldContain("changed providers");
        (await Serve.CliSucceedsAsync("config", "get")).Stdout.ShouldNotContain("providers");
    }
}
