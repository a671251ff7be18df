using System.Text.Json;
using Kennel.Contracts;
using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary>
/// <c>kennel skills …</c> as a person types it: a registry built with <c>kennel skills index</c> in a folder the
/// installation allows, then browse, install, list, show, an unknown skill, and uninstall against a real <c>kennel serve</c>.
/// </summary>
public sealed class SkillsCommandTests : IAsyncLifetime
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("kennel-skills-cli-");
    private ServeProcess serve = null!;

    private string Registry => Path.Combine(root.FullName, "registry");

    public async Task InitializeAsync() =>
        serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string> { ["KENNEL_SKILL_REGISTRY_ROOTS"] = root.FullName });

    public async Task DisposeAsync()
    {
        await serve.DisposeAsync();
        root.Delete(recursive: true);
    }

    [Fact]
    public async Task A_skill_is_indexed_browsed_installed_listed_shown_and_uninstalled_and_an_unknown_one_is_a_clear_error()
    {
        var weather = Path.Combine(root.FullName, "skills", "weather");
        Directory.CreateDirectory(weather);
        await File.WriteAllTextAsync(Path.Combine(weather, "SKILL.md"),
            "---\nname: weather\ndescription: Reads the forecast.\nversion: 1.0.0\nrequires:\n  env: [MET_TOKEN]\n---\n# Weather\n");
        await serve.CliSucceedsAsync("skills", "index", Path.Combine(root.FullName, "skills"), "--out", Registry, "--publisher", "Met Team");
        await serve.CliSucceedsAsync("config", "set", "skills.registries.local", $$"""{"url": "{{new Uri(Registry + "/")}}"}""");

        (await serve.CliSucceedsAsync("skills", "browse", "forecast")).Stdout.ShouldContain("weather 1.0.0 (local, untrusted, by Met Team): Reads the forecast.");
        (await serve.CliSucceedsAsync("skills", "registries")).Stdout.ShouldContain("local (untrusted)");
        (await serve.CliSucceedsAsync("skills", "install", "weather")).Stdout.ShouldStartWith("installed: weather 1.0.0 from local");
        var table = (await serve.CliSucceedsAsync("skills", "list")).Stdout;
        table.ShouldContain("NAME");
        table.ShouldContain("no: env 'MET_TOKEN' needs a workspace secret of that name");
        var shown = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("skills", "show", "weather", "--json")).Stdout, KennelJson.Default.InstalledSkill)!;
        shown.Agents.ShouldBe(["main"]);
        shown.Eligible.ShouldBeFalse();

        var unknown = await serve.CliAsync("skills", "install", "no-such-skill");
        unknown.ExitCode.ShouldBe(1, unknown.ToString());
        unknown.Stderr.ShouldContain("no-such-skill");

        (await serve.CliSucceedsAsync("skills", "uninstall", "weather")).Stdout.ShouldBe("Uninstalled weather.\n");
        JsonSerializer.Deserialize((await serve.CliSucceedsAsync("skills", "list", "--json")).Stdout, KennelJson.Default.SkillList)!.Skills.ShouldBeEmpty();
    }
}
