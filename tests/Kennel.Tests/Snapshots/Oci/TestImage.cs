using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;
using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>One blob of a test image: its bytes, digest and media type.</summary>
internal sealed record TestBlob(byte[] Bytes, string MediaType)
{
    public string Digest { get; } = OciDigest.Of(Bytes);

    public JsonObject Descriptor() => new() { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Bytes.Length };
}

/// <summary>An image a test builds from its layers: config, manifest, and the archives <c>docker save</c> and an OCI layout would be.</summary>
internal sealed class TestImage
{
    public const string GzipLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string ZstdLayer = "application/vnd.oci.image.layer.v1.tar+zstd";

    private TestImage(TestBlob config, IReadOnlyList<TestBlob> layers, IReadOnlyList<byte[]> tars, string manifestType)
    {
        Config = config;
        Layers = layers;
        Tars = tars;
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = manifestType,
            ["config"] = config.Descriptor(),
            ["layers"] = new JsonArray(layers.Select(layer => (JsonNode)layer.Descriptor()).ToArray()),
        };
        Manifest = new TestBlob(Encoding.UTF8.GetBytes(manifest.ToJsonString()), manifestType);
    }

    public TestBlob Config { get; }
    public IReadOnlyList<TestBlob> Layers { get; }
    public IReadOnlyList<byte[]> Tars { get; }
    public TestBlob Manifest { get; }

    /// <summary>
    /// An image of gzipped layers (or zstd ones) with an Env, a WorkingDir, an Entrypoint, a Cmd and a User, in the OCI
    /// media types or, with <paramref name="docker"/>, in Docker's v2 schema 2 ones.
    /// </summary>
    public static TestImage Of(IEnumerable<TestLayer> layers, string? architecture = null, bool zstd = false, bool docker = false)
    {
        var built = layers.ToList();
        var tars = built.Select(layer => layer.Tar()).ToList();
        var blobs = built.Select(layer => zstd ? new TestBlob(layer.Zstd(), ZstdLayer)
            : new TestBlob(layer.Gzip(), docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : GzipLayer)).ToList();
        var config = new JsonObject
        {
            ["architecture"] = architecture ?? OciManifests.Architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"),
                ["WorkingDir"] = "/app",
                ["Entrypoint"] = new JsonArray("/bin/sh", "-c"),
                ["Cmd"] = new JsonArray("echo hello"),
                ["User"] = "1000:1000",
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray(tars.Select(tar => (JsonNode)JsonValue.Create(OciDigest.Of(tar))).ToArray()),
            },
        };
        var configType = docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json";
        return new TestImage(new TestBlob(Encoding.UTF8.GetBytes(config.ToJsonString()), configType), blobs, tars,
            docker ? OciManifests.DockerManifest : OciManifests.OciManifest);
    }

    /// <summary>An index naming <paramref name="images"/> by architecture.</summary>
    public static TestBlob Index(params (string Architecture, TestImage Image)[] images) => new(Encoding.UTF8.GetBytes(new JsonObject
    {
        ["schemaVersion"] = 2,
        ["mediaType"] = OciManifests.OciIndex,
        ["manifests"] = new JsonArray(images.Select(entry =>
        {
            var descriptor = entry.Image.Manifest.Descriptor();
            descriptor["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = entry.Architecture };
            return (JsonNode)descriptor;
        }).ToArray()),
    }.ToJsonString()), OciManifests.OciIndex);

    /// <summary>The image as an OCI image layout in a tar; <paramref name="change"/> may alter a blob's bytes on the way.</summary>
    public byte[] OciLayoutArchive(Func<TestBlob, byte[]>? change = null)
    {
        var index = new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(Manifest.Descriptor()) };
        var members = new List<(string, byte[])>
        {
            ("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}")),
            ("index.json", Encoding.UTF8.GetBytes(index.ToJsonString())),
        };
        members.AddRange(new[] { Manifest, Config }.Concat(Layers).Select(blob => ($"blobs/sha256/{OciDigest.Hex(blob.Digest)}", change?.Invoke(blob) ?? blob.Bytes)));
        return Archive(members);
    }

    /// <summary>The image as <c>docker save</c> wrote it before OCI layouts: manifest.json, the config as HEX.json, one uncompressed layer.tar a folder.</summary>
    public byte[] DockerSaveArchive(Func<int, byte[], byte[]>? changeLayer = null)
    {
        var layerNames = Tars.Select((_, index) => $"layer{index}/layer.tar").ToList();
        var layers = string.Join(",", layerNames.Select(name => $"\"{name}\""));
        var manifest = $$"""[{"Config":"{{OciDigest.Hex(Config.Digest)}}.json","RepoTags":["test/image:latest"],"Layers":[{{layers}}]}]""";
        var members = new List<(string, byte[])> { ("manifest.json", Encoding.UTF8.GetBytes(manifest)), ($"{OciDigest.Hex(Config.Digest)}.json", Config.Bytes) };
        members.AddRange(Tars.Select((tar, index) => (layerNames[index], changeLayer?.Invoke(index, tar) ?? tar)));
        return Archive(members);
    }

    private static byte[] Archive(IEnumerable<(string Name, byte[] Bytes)> members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, bytes) in members)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
            }
        }
        return buffer.ToArray();
    }
}
