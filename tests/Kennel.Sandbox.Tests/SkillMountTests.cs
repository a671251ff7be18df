namespace Kennel.Sandbox.Tests;

/// <summary>A session's skills appear read-only under /skills/{name}: readable and runnable, never writable, and no /skills without them.</summary>
public sealed class SkillMountTests(DefaultOptionsSandbox sandbox) : IClassFixture<DefaultOptionsSandbox>, IDisposable
{
    private readonly string folder = MakeSkill(sandbox.Host.SharedDirectory);

    private SandboxHost Host => sandbox.Host;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task A_skill_is_readable_and_runnable_but_neither_it_nor_skills_can_be_changed()
    {
        var spec = SandboxHost.Spec(
            "cat /skills/tool/SKILL.md; /skills/tool/run.sh; echo x > /skills/tool/SKILL.md 2>/dev/null && echo wrote; " +
            "rm -f /skills/tool/run.sh 2>/dev/null && echo removed; mkdir /skills/more 2>/dev/null && echo added; ls /skills") with
        {
            Skills = [new SandboxSkill("tool", folder)],
        };

        var run = await Host.RunAsync(spec);

        run.ExitCode.ShouldBe(0, run.Stderr);
        run.Stdout.ShouldBe("# tool\nran\ntool\n");
    }

    [Fact]
    public async Task Without_skills_there_is_no_skills_folder()
    {
        var run = await Host.RunAsync("test -e /skills && echo present || echo absent");

        run.Stdout.ShouldBe("absent\n");
    }

    [Theory]
    [InlineData("Tool")]
    [InlineData("../etc")]
    [InlineData("-tool")]
    [InlineData("")]
    public async Task A_bad_skill_name_is_refused(string name)
    {
        var spec = SandboxHost.Spec("true") with { Skills = [new SandboxSkill(name, folder)] };

        (await Should.ThrowAsync<SandboxException>(() => Host.Runtime.StartAsync(spec, CancellationToken.None))).Code.ShouldBe("invalid_spec");
    }

    [Fact]
    public async Task A_missing_folder_a_repeated_name_and_too_many_skills_are_refused()
    {
        foreach (var skills in new[]
        {
            [new SandboxSkill("tool", Path.Join(folder, "missing"))],
            [new SandboxSkill("tool", folder), new SandboxSkill("tool", folder)],
            Enumerable.Range(0, 33).Select(i => new SandboxSkill($"s{i}", folder)).ToArray(),
        })
        {
            var spec = SandboxHost.Spec("true") with { Skills = skills };
            (await Should.ThrowAsync<SandboxException>(() => Host.Runtime.StartAsync(spec, CancellationToken.None))).Code.ShouldBe("invalid_spec");
        }
    }

    /// <summary>A skill folder as the worker leaves it: readable by all, its script runnable by all.</summary>
    private static string MakeSkill(string sharedDirectory)
    {
        const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode Runnable = Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var folder = Path.Join(sharedDirectory, $"skill-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder, Runnable);
        File.WriteAllText(Path.Join(folder, "SKILL.md"), "# tool\n");
        File.SetUnixFileMode(Path.Join(folder, "SKILL.md"), Readable);
        File.WriteAllText(Path.Join(folder, "run.sh"), "#!/bin/sh\necho ran\n");
        File.SetUnixFileMode(Path.Join(folder, "run.sh"), Runnable);
        File.SetUnixFileMode(folder, Runnable);
        return folder;
    }
}
