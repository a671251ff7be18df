using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Tests.Config;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Http;
using Kennel.Agents.Runtime;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Skills.Registry;
using Kennel.Testing;

namespace Kennel.Tests.Skills;

/// <summary>
/// A Kennel server per store whose outbound guard lets loopback through (as an installation that hosts its own registry
/// would allow), with a scripted model; each test publishes its own registry from skill folders and serves it over HTTP.
/// </summary>
public sealed class SkillServers : IAsyncLifetime
{
    private readonly Dictionary<string, Task<TestServer>> servers = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public ScriptedProvider Model { get; private set; } = null!;

    public Task<TestServer> GetAsync(string store)
    {
        lock (gate)
        {
            if (!servers.TryGetValue(store, out var server))
            {
                server = TestServer.StartAsync(store, settings => settings with
                {
                    Outbound = OutboundAddresses.Parse("127.0.0.1/32", out _)!,
                    Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(Model.Url, "v1"), "sk-test-skills")],
                    TurnLimits = new TurnLimits { Timeout = TimeSpan.FromMinutes(2), MaxToolSteps = 3, MaxToolResultChars = 4000 },
                });
                servers[store] = server;
            }
            return server;
        }
    }

    public async Task InitializeAsync() => Model = await ScriptedProvider.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var server in servers.Values.Where(s => !s.IsFaulted))
        {
            await (await server).DisposeAsync();
        }
        await Model.DisposeAsync();
    }
}

/// <summary>A registry of one test: skill folders, the published files, and the HTTP host that serves them.</summary>
public sealed class TestRegistry : IAsyncDisposable
{
    private TestRegistry(RegistryFixture files, RegistryHost host)
    {
        Files = files;
        Host = host;
    }

    public RegistryFixture Files { get; }
    public RegistryHost Host { get; }

    public static async Task<TestRegistry> StartAsync()
    {
        var files = new RegistryFixture();
        Directory.CreateDirectory(files.Published);
        return new TestRegistry(files, await RegistryHost.StartAsync(files.Published));
    }

    /// <summary>Publishes a greeter-style skill (SKILL.md plus scripts/run.sh) through the code behind <c>kennel skills index</c>.</summary>
    public BuiltSkill Publish(string name, string version, string description = "Greets people.")
    {
        foreach (var folder in Directory.EnumerateDirectories(Files.SkillsFolder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Files.WriteSkill(name, version, description);
        return Files.Publish().Skills.Single();
    }

    /// <summary>
    /// Puts an archive in the registry as a publisher that skips <c>kennel skills index</c> would (nothing checks it on
    /// the way in), listed with <paramref name="listedSha256"/> (the archive's own hash by default).
    /// </summary>
    public string PublishRaw(string name, string version, byte[] archive, string? listedSha256 = null, string summary = "A skill.")
    {
        var indexPath = Path.Combine(Files.Published, SkillRegistryUrls.IndexFile);
        var indexUrl = new Uri(indexPath);
        var index = File.Exists(indexPath) ? RegistryIndexParser.Parse(File.ReadAllBytes(indexPath), indexUrl) : new RegistryIndex([]);
        var archiveName = $"{name}-{version}-raw.tar.gz";
        Directory.CreateDirectory(Path.Combine(Files.Published, SkillRegistryBuilder.ArchivesFolder));
        File.WriteAllBytes(Path.Combine(Files.Published, SkillRegistryBuilder.ArchivesFolder, archiveName), archive);
        var sha256 = listedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(archive));
        var entry = new RegistrySkillVersion(version, new Uri(indexUrl, $"{SkillRegistryBuilder.ArchivesFolder}/{archiveName}"), sha256, archive.Length,
            "Mallory", summary, SkillRequirements.None, null);
        var others = index.Skills.Where(s => s.Name != name).ToList();
        var previous = index.Skills.FirstOrDefault(s => s.Name == name)?.Versions.Where(v => v.Version != version) ?? [];
        others.Add(new RegistrySkill(name, summary, "Mallory", [.. previous, entry]));
        File.WriteAllBytes(indexPath, RegistryIndexWriter.Write(new RegistryIndex(others), indexUrl));
        return sha256;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Files.Dispose();
    }
}

/// <summary>The REST calls of the skills tests.</summary>
public static class SkillApi
{
    public static Task AddRegistryAsync(this HttpClient client, string name, Uri url, string trust = "untrusted") =>
        client.SetConfigOkAsync($"skills.registries.{name}", $$"""{"url": "{{url}}", "trust": "{{trust}}"}""");

    public static Task<HttpResponseMessage> InstallAsync(this HttpClient client, string name, string? version = null, bool acknowledge = false) =>
        client.PostAsJsonAsync("/v1/skills", new InstallSkillRequest { Name = name, Version = version, AcknowledgeWarnings = acknowledge },
            KennelJson.Default.InstallSkillRequest);

    public static async Task<SkillInstallResult> InstalledAsync(this HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new ShouldAssertException($"install answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.SkillInstallResult))!;
    }

    public static async Task<Problem> ProblemAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(KennelJson.Default.Problem))!;

    public static async Task<SkillList> SkillsAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync("/v1/skills", KennelJson.Default.SkillList))!;
}
