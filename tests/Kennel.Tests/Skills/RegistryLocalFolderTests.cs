using System.Security.Cryptography;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.Tests.Skills;

/// <summary>A registry in a local folder (<c>file:///</c>), readable only inside the installation's allowed roots.</summary>
public sealed class RegistryLocalFolderTests : IDisposable
{
    private readonly RegistryFixture fixture = new();
    private readonly DirectoryInfo outside = Directory.CreateTempSubdirectory("kennel-registry-outside-");

    [Fact]
    public async Task A_folder_registry_under_an_allowed_root_is_read_and_its_archives_download()
    {
        fixture.PublishGreeter("2.0.0");
        using var client = RegistryFixture.Client(Roots(fixture.Directory.FullName));
        var registry = RegistryFixture.Registry(new Uri(fixture.Published));

        var index = await client.IndexAsync(registry, CancellationToken.None);
        var version = index.Find("greeter")!.Newest!;
        var archive = await client.DownloadAsync(registry, version, SkillLimits.Default.MaxCompressedBytes, CancellationToken.None);

        version.Archive.ShouldBe(new Uri(Path.Combine(fixture.Published, "archives", "greeter-2.0.0.tar.gz")));
        Convert.ToHexStringLower(SHA256.HashData(archive)).ShouldBe(version.Sha256);
        client.Status(registry).Answered.ShouldBe(true);
    }

    [Fact]
    public async Task A_folder_outside_the_roots_is_refused()
    {
        fixture.PublishGreeter("2.0.0");
        using var client = RegistryFixture.Client(Roots(outside.FullName));

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(new Uri(fixture.Published)), CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
        failure.Message.ShouldContain("outside the folders an admin allows with KENNEL_SKILL_REGISTRY_ROOTS");
    }

    [Fact]
    public async Task A_symlink_under_a_root_that_points_outside_it_is_refused()
    {
        fixture.PublishGreeter("2.0.0");
        var root = Directory.CreateDirectory(Path.Combine(outside.FullName, "root"));
        Directory.CreateSymbolicLink(Path.Combine(root.FullName, "public"), fixture.Published);
        using var client = RegistryFixture.Client(Roots(root.FullName));

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(
            RegistryFixture.Registry(new Uri(Path.Combine(root.FullName, "public") + "/")), CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
    }

    [Fact]
    public async Task A_root_reached_through_a_symlink_still_counts()
    {
        fixture.PublishGreeter("2.0.0");
        var link = Path.Combine(outside.FullName, "registries");
        Directory.CreateSymbolicLink(link, fixture.Directory.FullName);
        using var client = RegistryFixture.Client(Roots(link));

        var index = await client.IndexAsync(RegistryFixture.Registry(new Uri(fixture.Published)), CancellationToken.None);

        index.Skills.Single().Name.ShouldBe("greeter");
    }

    [Fact]
    public async Task An_archive_that_climbs_out_of_the_roots_is_refused()
    {
        var root = Directory.CreateDirectory(Path.Combine(outside.FullName, "root"));
        await File.WriteAllTextAsync(Path.Combine(outside.FullName, "secret.tar.gz"), "not yours");
        await File.WriteAllTextAsync(Path.Combine(root.FullName, "index.json"), $$"""
            {"kennelSkillRegistry": 1, "skills": [{"name": "greeter", "summary": "Greets.", "versions": [
              {"version": "1.0.0", "archive": "../secret.tar.gz", "sha256": "{{new string('a', 64)}}", "size": 9}]}]}
            """);
        using var client = RegistryFixture.Client(Roots(root.FullName));
        var registry = RegistryFixture.Registry(new Uri(root.FullName + "/"));
        var version = (await client.IndexAsync(registry, CancellationToken.None)).Skills.Single().Newest!;

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.DownloadAsync(registry, version, 1024, CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
    }

    private static SkillRegistryOptions Roots(params string[] roots) => new() { Roots = roots };

    public void Dispose()
    {
        fixture.Dispose();
        outside.Delete(recursive: true);
    }
}
