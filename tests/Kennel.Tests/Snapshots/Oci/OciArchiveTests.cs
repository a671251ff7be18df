using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>Image archives as <c>docker save</c> and OCI image layouts write them, unpacked into a root; tampered ones refused.</summary>
public sealed class OciArchiveTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("kennel-oci-archive-").FullName;
    private readonly List<string> log = [];

    private string Root => Path.Join(work, "root");

    [Fact]
    public async Task An_OCI_image_layout_unpacks_to_the_image()
    {
        var image = OciRegistryPullTests.TwoLayers();

        var unpacked = await UnpackAsync(image.OciLayoutArchive());

        unpacked.Digest.ShouldBe(image.Manifest.Digest);
        unpacked.WorkingDir.ShouldBe("/app");
        OciRegistryPullTests.ShouldHoldTheTwoLayers(Root);
    }

    [Fact]
    public async Task A_docker_save_archive_unpacks_to_the_image()
    {
        var image = OciRegistryPullTests.TwoLayers();

        var unpacked = await UnpackAsync(image.DockerSaveArchive());

        unpacked.Digest.ShouldBe(image.Config.Digest, "a docker save archive has no manifest digest: its image id stands in");
        unpacked.Env.ShouldContain("LANG=C.UTF-8");
        OciRegistryPullTests.ShouldHoldTheTwoLayers(Root);
    }

    [Fact]
    public async Task A_tampered_blob_in_a_layout_is_refused()
    {
        var image = OciRegistryPullTests.TwoLayers();
        var archive = image.OciLayoutArchive(blob => blob.Digest == image.Layers[0].Digest ? [.. blob.Bytes[..^1], (byte)(blob.Bytes[^1] ^ 1)] : blob.Bytes);

        var refused = await Should.ThrowAsync<OciException>(() => UnpackAsync(archive));

        refused.Code.ShouldBe(OciErrors.DigestMismatch);
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task A_docker_save_layer_that_differs_from_its_diff_id_is_refused()
    {
        var image = OciRegistryPullTests.TwoLayers();
        var other = new TestLayer().File("app/main.py", "print('evil')\n").Tar();

        var refused = await Should.ThrowAsync<OciException>(() => UnpackAsync(image.DockerSaveArchive((index, tar) => index == 1 ? other : tar)));

        refused.Code.ShouldBe(OciErrors.DigestMismatch);
        refused.Message.ShouldContain("layer 2/2");
    }

    [Fact]
    public async Task An_archive_that_is_no_image_is_refused()
    {
        var refused = await Should.ThrowAsync<OciException>(() => UnpackAsync(new TestLayer().File("README", "hello").Tar()));

        refused.Code.ShouldBe(OciErrors.InvalidArchive);
        refused.Message.ShouldContain("neither index.json");
    }

    private async Task<OciImage> UnpackAsync(byte[] archive)
    {
        var path = Path.Join(work, "image.tar");
        await File.WriteAllBytesAsync(path, archive);
        return await new OciImageSource(new OciPullOptions()).UnpackArchiveAsync(path, Root, log.Add, CancellationToken.None);
    }

    public void Dispose() => Directory.Delete(work, recursive: true);
}
