using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Skills.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.Skills;

/// <summary>
/// Skill folders on disk as a publisher keeps them, a registry built from them by the code behind
/// <c>kennel skills index</c>, and a client that may reach loopback the way an installation allows it.
/// </summary>
public sealed class RegistryFixture : IDisposable
{
    public RegistryFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("kennel-registry-");
        System.IO.Directory.CreateDirectory(SkillsFolder);
    }

    public DirectoryInfo Directory { get; }
    public string SkillsFolder => Path.Combine(Directory.FullName, "skills");
    public string Published => Path.Combine(Directory.FullName, "public");

    public static OutboundAddresses LoopbackAllowed { get; } = OutboundAddresses.Parse("127.0.0.1/32", out _)!;

    /// <summary>Writes a skill folder: a SKILL.md with front matter and a script it tells the agent to run.</summary>
    public string WriteSkill(string name, string version, string description = "Greets people.", string? folder = null)
    {
        var path = Path.Combine(SkillsFolder, folder ?? name);
        System.IO.Directory.CreateDirectory(Path.Combine(path, "scripts"));
        File.WriteAllText(Path.Combine(path, "SKILL.md"),
            $"---\nname: {name}\ndescription: {description}\nversion: {version}\nrequires:\n  programs: [sh]\n---\n# {name}\n\nRun `sh scripts/run.sh`.\n");
        var script = Path.Combine(path, "scripts", "run.sh");
        File.WriteAllText(script, $"#!/bin/sh\necho {name} {version}\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }

    public RegistryBuild Publish(Uri? baseUrl = null, string? publisher = "Example Team")
    {
        var build = SkillRegistryBuilder.Build(SkillsFolder, Published, baseUrl, publisher, new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        build.Refusals.ShouldBeEmpty();
        return build;
    }

    public void PublishGreeter(string version = "1.0.0")
    {
        WriteSkill("greeter", version);
        Publish();
    }

    /// <summary>Publishes the skill greeter 1.0.0 and serves the registry over HTTP.</summary>
    public async Task<RegistryHost> ServeGreeterAsync()
    {
        PublishGreeter();
        return await RegistryHost.StartAsync(Published);
    }

    public static SkillRegistryClient Client(SkillRegistryOptions? options = null, OutboundAddresses? addresses = null, TimeProvider? time = null) =>
        new(options ?? new SkillRegistryOptions(), addresses ?? LoopbackAllowed, time ?? TimeProvider.System, NullLogger<SkillRegistryClient>.Instance);

    public static SkillRegistryConfig Registry(Uri url, SkillTrust trust = SkillTrust.Untrusted) => new("team", url, trust);

    public void Dispose() => Directory.Delete(recursive: true);
}
