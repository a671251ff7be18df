using System.Runtime.InteropServices;
using System.Text.Json;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>A content descriptor: what a manifest says about a blob (its type, digest and size) and, in an index, its platform.</summary>
internal sealed record OciDescriptor(string MediaType, string Digest, long Size, string? Os = null, string? Architecture = null, string? Variant = null);

/// <summary>An image manifest: its config blob and its layers, lowest first.</summary>
internal sealed record OciManifest(OciDescriptor Config, IReadOnlyList<OciDescriptor> Layers);

/// <summary>The parts of an image config Kennel keeps, and the digests of its uncompressed layers (<c>rootfs.diff_ids</c>).</summary>
internal sealed record OciImageConfig(string Os, string Architecture, string? Variant, IReadOnlyList<string> Env, string? WorkingDir,
    IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Cmd, string? User, IReadOnlyList<string> DiffIds);

/// <summary>
/// Reads manifests, indexes and configs in the OCI image spec's media types and Docker's v2 schema 2 ones, and picks the
/// manifest of an index for this machine. Anything not understood is refused with <see cref="OciErrors.InvalidManifest"/>,
/// never guessed at.
/// </summary>
internal static class OciManifests
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>The Accept header of a manifest request: every type Kennel reads.</summary>
    public static readonly string[] Accepted = [OciIndex, OciManifest, DockerList, DockerManifest];

    private static readonly HashSet<string> LayerTypes = new(StringComparer.Ordinal)
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
    };

    /// <summary>This machine's platform as the specs name it: <c>linux/amd64</c> or <c>linux/arm64</c>.</summary>
    public static string Architecture => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>True for an index (or Docker manifest list), judged by the declared type or, failing that, by the body.</summary>
    public static bool IsIndex(string? mediaType, byte[] body)
    {
        if (mediaType is OciIndex or DockerList)
        {
            return true;
        }
        if (mediaType is OciManifest or DockerManifest)
        {
            return false;
        }
        using var document = Parse(body, "manifest");
        return document.RootElement.TryGetProperty("manifests", out _);
    }

    /// <summary>The manifests an index lists.</summary>
    public static List<OciDescriptor> ReadIndex(byte[] index, string what)
    {
        using var document = Parse(index, what);
        return Array(document.RootElement, "manifests", what).Select(element => Descriptor(element, what)).ToList();
    }

    /// <summary>The manifest of an index for linux on this machine's architecture, or a refusal that lists what the index offers.</summary>
    public static OciDescriptor ChooseManifest(IReadOnlyList<OciDescriptor> candidates, string what)
    {
        var ours = candidates.Where(d => d.Os == "linux" && d.Architecture == Architecture && d.MediaType is OciManifest or DockerManifest)
            .OrderBy(d => d.Variant is null or "v8" ? 0 : 1)
            .FirstOrDefault();
        if (ours is not null)
        {
            return ours;
        }
        var offered = candidates.Where(d => d.Os is not null and not "unknown").Select(d => $"{d.Os}/{d.Architecture}" + (d.Variant is null ? "" : $"/{d.Variant}")).Distinct();
        throw new OciException(OciErrors.PlatformUnavailable,
            $"{what} has no image for linux/{Architecture}; it offers {string.Join(", ", offered.DefaultIfEmpty("nothing"))}");
    }

    public static OciManifest ReadManifest(byte[] body, string what)
    {
        using var document = Parse(body, what);
        var root = document.RootElement;
        if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(what, "it has no config descriptor");
        }
        var layers = Array(root, "layers", what).Select(element => Descriptor(element, what)).ToList();
        if (layers.Find(layer => !LayerTypes.Contains(layer.MediaType)) is { } unknown)
        {
            throw Invalid(what, $"layer {unknown.Digest} has media type '{unknown.MediaType}', which Kennel does not unpack");
        }
        return new OciManifest(Descriptor(config, what), layers);
    }

    public static OciImageConfig ReadConfig(byte[] body, string what)
    {
        using var document = Parse(body, what);
        var root = document.RootElement;
        var config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var diffIds = root.TryGetProperty("rootfs", out var rootfs) && rootfs.ValueKind == JsonValueKind.Object
            ? Array(rootfs, "diff_ids", what).Select(id => id.GetString() ?? "").ToList()
            : throw Invalid(what, "it has no rootfs.diff_ids");
        if (diffIds.Find(id => !OciDigest.IsValid(id)) is { } bad)
        {
            throw Invalid(what, $"diff id '{bad}' is not a sha256 digest");
        }
        return new OciImageConfig(
            String(root, "os") ?? "linux", String(root, "architecture") ?? "", String(root, "variant"),
            Strings(config, "Env"), String(config, "WorkingDir") is { Length: > 0 } directory ? directory : null,
            Strings(config, "Entrypoint"), Strings(config, "Cmd"), String(config, "User") is { Length: > 0 } user ? user : null, diffIds);
    }

    private static OciDescriptor Descriptor(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(what, "a descriptor is not an object");
        }
        var digest = String(element, "digest");
        if (!OciDigest.IsValid(digest))
        {
            throw Invalid(what, $"descriptor digest '{digest}' is not a sha256 digest");
        }
        var size = element.TryGetProperty("size", out var s) && s.TryGetInt64(out var value) && value >= 0 ? value : throw Invalid(what, $"descriptor {digest} has no valid size");
        var platform = element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        return new OciDescriptor(String(element, "mediaType") ?? "", digest!, size, String(platform, "os"), String(platform, "architecture"), String(platform, "variant"));
    }

    private static JsonDocument Parse(byte[] body, string what)
    {
        try
        {
            var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw Invalid(what, "it is not a JSON object");
            }
            return document;
        }
        catch (JsonException)
        {
            throw Invalid(what, "it is not valid JSON");
        }
    }

    private static List<JsonElement> Array(JsonElement parent, string name, string what) =>
        parent.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().ToList()
            : throw Invalid(what, $"it has no '{name}' array");

    private static string? String(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string> Strings(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.String).Select(item => item.GetString()!).ToList()
            : [];

    private static OciException Invalid(string what, string why) => new(OciErrors.InvalidManifest, $"{what} is not a valid image manifest or config: {why}");
}
