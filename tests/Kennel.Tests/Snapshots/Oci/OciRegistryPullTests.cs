using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>Images pushed to a real registry on loopback, then pulled by tag and by digest into a root directory.</summary>
public sealed class OciRegistryPullTests(DockerRegistry registry) : IClassFixture<DockerRegistry>, IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("kennel-oci-pull-").FullName;
    private readonly List<string> log = [];

    private string Root => Path.Join(work, "root");

    internal static TestImage TwoLayers(bool zstd = false) => TestImage.Of(
    [
        new TestLayer()
            .Directory("usr").Directory("usr/bin").Directory("etc").Directory("etc/cache")
            .File("usr/bin/tool", "#!/bin/sh\necho tool\n", (UnixFileMode)0x1ed)
            .Symlink("usr/bin/alias", "tool")
            .HardLink("usr/bin/tool2", "usr/bin/tool")
            .File("etc/old.conf", "old")
            .File("etc/cache/a", "lower")
            .File("usr/bin/su-like", "x", (UnixFileMode)0x9ed),
        new TestLayer()
            .File("etc/.wh.old.conf", "")
            .File("etc/cache/.wh..wh..opq", "")
            .File("etc/cache/b", "upper")
            .File("app/main.py", "print('hi')\n"),
    ], zstd: zstd);

    [Fact]
    public async Task Pulls_an_image_by_tag_applying_its_layers_in_order()
    {
        var image = TwoLayers();
        await registry.PushAsync("team/python", "3.12", image);

        var pulled = await new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/python:3.12", Root, log.Add, CancellationToken.None);

        pulled.Digest.ShouldBe(image.Manifest.Digest);
        pulled.IndexDigest.ShouldBeNull();
        pulled.Platform.ShouldBe($"linux/{OciManifests.Architecture}");
        pulled.Env.ShouldBe(["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]);
        pulled.WorkingDir.ShouldBe("/app");
        pulled.Entrypoint.ShouldBe(["/bin/sh", "-c"]);
        pulled.Cmd.ShouldBe(["echo hello"]);
        pulled.User.ShouldBe("1000:1000");
        pulled.Layers.ShouldBe(2);
        ShouldHoldTheTwoLayers(Root);
        log.ShouldContain(line => line.Contains(image.Manifest.Digest, StringComparison.Ordinal));
        log.ShouldContain(line => line.StartsWith("layer 2/2: ", StringComparison.Ordinal));
    }

    internal static void ShouldHoldTheTwoLayers(string root)
    {
        File.ReadAllText(Path.Join(root, "usr/bin/tool")).ShouldBe("#!/bin/sh\necho tool\n");
        File.GetUnixFileMode(Path.Join(root, "usr/bin/tool")).ShouldBe((UnixFileMode)0x1ed);
        new FileInfo(Path.Join(root, "usr/bin/alias")).LinkTarget.ShouldBe("tool");
        File.ReadAllText(Path.Join(root, "usr/bin/tool2")).ShouldBe("#!/bin/sh\necho tool\n");
        File.Exists(Path.Join(root, "etc/old.conf")).ShouldBeFalse("a whiteout deletes what a lower layer left");
        File.Exists(Path.Join(root, "etc/.wh.old.conf")).ShouldBeFalse("whiteouts are markers, not files");
        Directory.GetFileSystemEntries(Path.Join(root, "etc/cache")).Select(Path.GetFileName).ShouldBe(["b"], "an opaque whiteout empties the lower layers' directory");
        File.ReadAllText(Path.Join(root, "app/main.py")).ShouldBe("print('hi')\n");
        File.GetUnixFileMode(Path.Join(root, "usr/bin/su-like")).ShouldBe((UnixFileMode)0x1ed, "setuid and setgid bits are dropped");
    }

    [Fact]
    public async Task Pulls_by_digest_and_unpacks_zstd_layers()
    {
        var image = TwoLayers(zstd: true);
        await registry.PushAsync("team/zstd", "1", image);

        var pulled = await new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/zstd@{image.Manifest.Digest}", Root, log.Add, CancellationToken.None);

        pulled.Digest.ShouldBe(image.Manifest.Digest);
        ShouldHoldTheTwoLayers(Root);
    }

    [Fact]
    public async Task Pulls_an_image_in_dockers_v2_media_types()
    {
        var image = TestImage.Of([new TestLayer().File("docker", "v2")], docker: true);
        await registry.PushAsync("team/docker", "v2", image);

        var pulled = await new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/docker:v2", Root, log.Add, CancellationToken.None);

        pulled.Digest.ShouldBe(image.Manifest.Digest);
        File.ReadAllText(Path.Join(Root, "docker")).ShouldBe("v2");
    }

    [Fact]
    public async Task An_index_gives_the_image_built_for_this_machine()
    {
        var other = OciManifests.Architecture == "amd64" ? "arm64" : "amd64";
        var ours = TestImage.Of([new TestLayer().File("which", "ours")]);
        var theirs = TestImage.Of([new TestLayer().File("which", "theirs")], architecture: other);
        await registry.PushAsync("team/multi", ours.Manifest.Digest, ours);
        await registry.PushAsync("team/multi", theirs.Manifest.Digest, theirs);
        var index = TestImage.Index((other, theirs), (OciManifests.Architecture, ours));
        await registry.PushManifestAsync("team/multi", "latest", index);

        var pulled = await new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/multi", Root, log.Add, CancellationToken.None);

        File.ReadAllText(Path.Join(Root, "which")).ShouldBe("ours");
        pulled.Digest.ShouldBe(ours.Manifest.Digest);
        pulled.IndexDigest.ShouldBe(index.Digest);
    }

    [Fact]
    public async Task An_index_without_this_machines_platform_is_refused_with_what_it_offers()
    {
        var other = OciManifests.Architecture == "amd64" ? "arm64" : "amd64";
        var theirs = TestImage.Of([new TestLayer().File("which", "theirs")], architecture: other);
        await registry.PushAsync("team/foreign", theirs.Manifest.Digest, theirs);
        await registry.PushManifestAsync("team/foreign", "1", TestImage.Index((other, theirs)));

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/foreign:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.PlatformUnavailable);
        refused.Message.ShouldContain($"offers linux/{other}");
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task A_missing_tag_is_a_clear_error()
    {
        await registry.PushAsync("team/app", "1.0", TestImage.Of([new TestLayer().File("a", "a")]));

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/app:2.0", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.NotFound);
        refused.Message.ShouldStartWith($"{registry.Host}/team/app has no tag '2.0'");
        Directory.Exists(Root).ShouldBeFalse("a failed pull leaves no half-written root behind");
    }

    [Fact]
    public async Task A_tampered_blob_is_refused()
    {
        var image = TwoLayers();
        await registry.PushAsync("team/tampered", "1", image);
        var stored = registry.BlobData(image.Layers[1].Digest);
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[^5] ^= 0xff;
        await File.WriteAllBytesAsync(stored, bytes);

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/tampered:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.DigestMismatch);
        refused.Message.ShouldContain(image.Layers[1].Digest);
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task A_registry_on_loopback_is_reached_only_when_the_admin_allows_it()
    {
        await registry.PushAsync("team/guarded", "1", TestImage.Of([new TestLayer().File("a", "a")]));

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(new OciPullOptions()).PullAsync($"{registry.Host}/team/guarded:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.Forbidden);
        refused.Message.ShouldContain(OutboundAddresses.AllowVariable);
    }

    [Fact]
    public async Task A_layer_larger_than_its_limit_is_refused()
    {
        await registry.PushAsync("team/big", "1", TestImage.Of([new TestLayer().Zeros("zeros", 4 << 20)]));

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options with { MaxUnpackedBytes = 1 << 20 }).PullAsync($"{registry.Host}/team/big:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.TooLarge);
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task A_registry_that_never_answers_is_a_timeout()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;

        var refused = await Should.ThrowAsync<OciException>(() => new OciImageSource(DockerRegistry.Options with { RequestTimeout = TimeSpan.FromSeconds(1) })
            .PullAsync($"127.0.0.1:{port}/team/app:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.Timeout);
        refused.Message.ShouldContain("did not answer");
    }

    public void Dispose() => Directory.Delete(work, recursive: true);
}
