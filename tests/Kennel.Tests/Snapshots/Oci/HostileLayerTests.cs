using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>
/// Layers built to attack the unpacker: every write must stay inside the root, whatever names, symlinks and hard
/// links a layer holds. Each attack aims at a real directory outside the root, so a successful escape would show.
/// </summary>
public sealed class HostileLayerTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("kennel-oci-hostile-").FullName;
    private readonly string outside = Directory.CreateTempSubdirectory("kennel-oci-outside-").FullName;
    private readonly List<string> log = [];

    private string Root => Path.Join(work, "root");

    [Fact]
    public async Task A_dot_dot_name_is_refused_and_nothing_is_written_above_the_root()
    {
        var refused = await RefusedAsync(new TestLayer().File("../escaped", "x"));

        refused.Code.ShouldBe(OciErrors.UnsafeLayer);
        refused.Message.ShouldContain("'..' is not allowed");
        File.Exists(Path.Join(work, "escaped")).ShouldBeFalse();
    }

    [Fact]
    public async Task An_absolute_name_is_refused()
    {
        var refused = await RefusedAsync(new TestLayer().File($"{outside}/escaped", "x"));

        refused.Code.ShouldBe(OciErrors.UnsafeLayer);
        File.Exists(Path.Join(outside, "escaped")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_file_under_a_symlink_that_points_out_lands_inside_the_root()
    {
        await UnpackAsync(
            new TestLayer().Symlink("absolute", outside).Symlink("relative", $"../../../../../../../..{outside}"),
            new TestLayer().File("absolute/one", "1").File("relative/two", "2"));

        Directory.GetFileSystemEntries(outside).ShouldBeEmpty();
        File.ReadAllText(Path.Join(Root, outside, "one")).ShouldBe("1", "the link is followed as the root's own processes would see it");
        File.ReadAllText(Path.Join(Root, outside, "two")).ShouldBe("2");
    }

    [Fact]
    public async Task A_file_that_replaces_a_symlink_never_writes_through_it()
    {
        var target = Path.Join(outside, "passwd");
        await File.WriteAllTextAsync(target, "host's own");

        await UnpackAsync(new TestLayer().Symlink("passwd", target), new TestLayer().File("passwd", "image's"));

        (await File.ReadAllTextAsync(target)).ShouldBe("host's own");
        new FileInfo(Path.Join(Root, "passwd")).LinkTarget.ShouldBeNull();
        File.ReadAllText(Path.Join(Root, "passwd")).ShouldBe("image's");
    }

    [Fact]
    public async Task A_hard_link_to_a_file_outside_the_image_is_refused()
    {
        await File.WriteAllTextAsync(Path.Join(outside, "secret"), "host secret");

        var refused = await RefusedAsync(new TestLayer().Symlink("door", outside).HardLink("stolen", "door/secret"));

        refused.Code.ShouldBe(OciErrors.UnsafeLayer);
        refused.Message.ShouldContain("not a regular file of the image");
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task Devices_and_fifos_are_skipped_and_setuid_bits_dropped()
    {
        await UnpackAsync(new TestLayer().Device("dev-null").Fifo("pipe").File("suid", "x", (UnixFileMode)0xded));

        File.Exists(Path.Join(Root, "dev-null")).ShouldBeFalse();
        File.Exists(Path.Join(Root, "pipe")).ShouldBeFalse();
        File.GetUnixFileMode(Path.Join(Root, "suid")).ShouldBe((UnixFileMode)0x1ed);
        log.ShouldContain(line => line.Contains("skipped 2 device, fifo or unsupported entries", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_symlink_loop_is_refused()
    {
        var refused = await RefusedAsync(new TestLayer().Symlink("a", "b").Symlink("b", "a").File("a/file", "x"));

        refused.Code.ShouldBe(OciErrors.UnsafeLayer);
        refused.Message.ShouldContain("symlinks");
    }

    [Fact]
    public async Task Too_many_entries_are_refused()
    {
        var layer = new TestLayer();
        for (var i = 0; i < 20; i++)
        {
            layer.File($"f{i}", "x");
        }

        var refused = await RefusedAsync(layer, new OciPullOptions { MaxEntries = 10 });

        refused.Code.ShouldBe(OciErrors.TooLarge);
    }

    [Fact]
    public async Task A_whiteout_hides_only_what_lower_layers_left()
    {
        await UnpackAsync(new TestLayer().File("lower", "1"), new TestLayer().File("same", "2").File(".wh.same", "").File(".wh.lower", ""));

        File.Exists(Path.Join(Root, "lower")).ShouldBeFalse();
        File.ReadAllText(Path.Join(Root, "same")).ShouldBe("2", "a whiteout never hides a file of its own layer");
    }

    [Fact]
    public async Task A_read_only_directory_still_receives_its_files()
    {
        await UnpackAsync(new TestLayer().Directory("ro", (UnixFileMode)0x16d).File("ro/file", "x"), new TestLayer().File("ro/later", "y"));

        File.GetUnixFileMode(Path.Join(Root, "ro")).ShouldBe((UnixFileMode)0x16d);
        File.ReadAllText(Path.Join(Root, "ro", "later")).ShouldBe("y");
    }

    private Task<OciImage> UnpackAsync(params TestLayer[] layers) => UnpackAsync(layers, new OciPullOptions());

    private async Task<OciImage> UnpackAsync(TestLayer[] layers, OciPullOptions options)
    {
        var path = Path.Join(work, "image.tar");
        await File.WriteAllBytesAsync(path, TestImage.Of(layers).OciLayoutArchive());
        return await new OciImageSource(options).UnpackArchiveAsync(path, Root, log.Add, CancellationToken.None);
    }

    private Task<OciException> RefusedAsync(TestLayer layer, OciPullOptions? options = null) =>
        Should.ThrowAsync<OciException>(() => UnpackAsync([layer], options ?? new OciPullOptions()));

    public void Dispose()
    {
        Directory.Delete(work, recursive: true);
        Directory.Delete(outside, recursive: true);
    }
}
