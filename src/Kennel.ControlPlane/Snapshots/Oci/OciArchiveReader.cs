using System.Formats.Tar;
using System.Text.Json;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// Reads an image archive: an OCI image layout (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>) or what
/// <c>docker save</c> writes (<c>manifest.json</c> naming a config and layer tars), plain or gzipped. The archive's
/// regular files are first copied into a staging directory under numbered names (so no archive path ever reaches the
/// disk), its symlinks kept as aliases; then every blob of the layout is checked against its digest, and the layers of
/// a <c>docker save</c> archive against the config's diff ids when they are unpacked.
/// </summary>
internal sealed class OciArchiveReader(string archivePath, string staging, OciPullOptions options)
{
    private const int MaxMembers = 100_000;
    private readonly Dictionary<string, string> files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> links = new(StringComparer.Ordinal);

    /// <summary>What an archive holds: the manifest digest (a <c>docker save</c> archive has none: its config digest stands in), the config and layer files.</summary>
    public sealed record Contents(string Digest, string? IndexDigest, byte[] Config, IReadOnlyList<string> LayerFiles);

    public Contents Read(CancellationToken ct)
    {
        Stage(ct);
        if (Find("index.json") is { } index)
        {
            return FromLayout(File.ReadAllBytes(index));
        }
        if (Find("manifest.json") is { } manifest)
        {
            return FromDockerSave(File.ReadAllBytes(manifest));
        }
        throw Invalid("it holds neither index.json (an OCI image layout) nor manifest.json (docker save)");
    }

    private Contents FromLayout(byte[] index)
    {
        var chosen = OnlyOrOurs(index, "the archive's index.json");
        string? indexDigest = null;
        var body = Blob(chosen);
        if (OciManifests.IsIndex(chosen.MediaType, body))
        {
            indexDigest = chosen.Digest;
            chosen = OnlyOrOurs(body, $"index {chosen.Digest}");
            body = Blob(chosen);
        }
        var manifest = OciManifests.ReadManifest(body, $"manifest {chosen.Digest}");
        var layers = manifest.Layers.Select(layer => VerifiedBlobPath(layer)).ToList();
        return new Contents(chosen.Digest, indexDigest, Blob(manifest.Config), layers);
    }

    /// <summary>The index's one manifest (docker save writes it without a platform; its config is checked later), or the one for this machine among several.</summary>
    private static OciDescriptor OnlyOrOurs(byte[] index, string what)
    {
        var manifests = OciManifests.ReadIndex(index, what);
        return manifests is [{ Os: null } only] ? only : OciManifests.ChooseManifest(manifests, what);
    }

    private Contents FromDockerSave(byte[] manifestJson)
    {
        try
        {
            using var document = JsonDocument.Parse(manifestJson);
            var images = document.RootElement;
            if (images.ValueKind != JsonValueKind.Array || images.GetArrayLength() != 1 || images[0].ValueKind != JsonValueKind.Object)
            {
                throw Invalid("its manifest.json must describe exactly one image");
            }
            var image = images[0];
            var configName = image.TryGetProperty("Config", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : throw Invalid("manifest.json names no Config");
            var layers = image.TryGetProperty("Layers", out var l) && l.ValueKind == JsonValueKind.Array
                ? l.EnumerateArray().Select(layer => layer.ValueKind == JsonValueKind.String ? Member(layer.GetString()!) : throw Invalid("a layer name is not a string")).ToList()
                : throw Invalid("manifest.json names no Layers");
            var config = File.ReadAllBytes(Member(configName));
            var configDigest = OciDigest.Of(config);
            // The config's own name is its digest in both of docker save's layouts (<hex>.json, blobs/sha256/<hex>).
            if (Path.GetFileNameWithoutExtension(configName) is { Length: 64 } hex && "sha256:" + hex != configDigest)
            {
                throw new OciException(OciErrors.DigestMismatch, $"the archive's config {configName} hashes to {configDigest}: refused as corrupted or tampered with");
            }
            return new Contents(configDigest, null, config, layers);
        }
        catch (JsonException)
        {
            throw Invalid("its manifest.json is not valid JSON");
        }
    }

    private byte[] Blob(OciDescriptor descriptor)
    {
        if (descriptor.Size > options.MaxManifestBytes)
        {
            throw new OciException(OciErrors.TooLarge, $"blob {descriptor.Digest} is {descriptor.Size} bytes, over the {options.MaxManifestBytes} byte limit for manifests and configs");
        }
        return File.ReadAllBytes(VerifiedBlobPath(descriptor));
    }

    private string VerifiedBlobPath(OciDescriptor descriptor)
    {
        var path = Member($"blobs/sha256/{OciDigest.Hex(descriptor.Digest)}");
        using var file = new DigestingStream(File.OpenRead(path), long.MaxValue, () => Invalid("unreachable"));
        file.Drain();
        return file.BytesRead == descriptor.Size && file.Digest == descriptor.Digest
            ? path
            : throw new OciException(OciErrors.DigestMismatch, $"the archive's blob {descriptor.Digest} does not match its digest or size: refused as corrupted or tampered with");
    }

    /// <summary>Copies the archive's regular files to numbered staging files, and notes its symlinks; nothing else is kept.</summary>
    private void Stage(CancellationToken ct)
    {
        long total = 0;
        try
        {
            using var stream = LayerStreams.OpenTar(archivePath);
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                ct.ThrowIfCancellationRequested();
                if (files.Count + links.Count >= MaxMembers)
                {
                    throw new OciException(OciErrors.TooLarge, $"the archive holds more than {MaxMembers} entries");
                }
                var name = Normalised(entry.Name);
                if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    links[name] = entry.EntryType == TarEntryType.HardLink ? Normalised(entry.LinkName) : Normalised(Path.Join(Path.GetDirectoryName(name), entry.LinkName));
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is { } data)
                {
                    total += entry.Length;
                    if (entry.Length > options.MaxBlobBytes || total > options.MaxUnpackedBytes)
                    {
                        throw new OciException(OciErrors.TooLarge, $"the archive's {name} passes the size limit");
                    }
                    var staged = Path.Join(staging, $"member-{files.Count}");
                    using (var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write))
                    {
                        data.CopyTo(file);
                    }
                    files[name] = staged;
                }
            }
        }
        catch (Exception failed) when (failed is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw Invalid($"it is not a valid tar: {failed.Message}");
        }
    }

    private string? Find(string name)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            if (files.TryGetValue(name, out var staged))
            {
                return staged;
            }
            if (!links.TryGetValue(name, out var target))
            {
                return null;
            }
            name = target;
        }
        return null;
    }

    private string Member(string name) => Find(Normalised(name)) ?? throw Invalid($"it has no file '{name}'");

    /// <summary>A member name as a key: no leading "./" or "/", no "." segments, ".." folded (names are only looked up, never written).</summary>
    private static string Normalised(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part is not ("" or "."))
            {
                parts.Add(part);
            }
        }
        return string.Join('/', parts);
    }

    private static OciException Invalid(string why) => new(OciErrors.InvalidArchive, $"the image archive was refused: {why}");
}
