using System.Globalization;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// What an unpacked image is: its digest (the platform manifest's; for a <c>docker save</c> archive without one, the
/// config's, Docker's image id), the index it was chosen from, the platform (<c>linux/amd64</c>), and the parts of its
/// config a snapshot keeps as defaults.
/// </summary>
public sealed record OciImage(string Source, string Digest, string? IndexDigest, string Platform, IReadOnlyList<string> Env,
    string? WorkingDir, IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Cmd, string? User, int Layers, long UnpackedBytes);

/// <summary>
/// Turns an OCI image into a root filesystem directory: pulled from a registry through the OCI distribution API
/// (<see cref="PullAsync(string, OciCredentials?, string, Action{string}, CancellationToken)"/>) or read from an image
/// archive (<see cref="UnpackArchiveAsync"/>). Every blob is checked against its digest before it is used, every
/// layer against the config's diff id as it is unpacked, and the layers are applied safely
/// (<see cref="LayerUnpacker"/>). The target directory must be missing or empty; it is removed again when the pull fails.
/// </summary>
public sealed class OciImageSource(OciPullOptions options)
{
    public Task<OciImage> PullAsync(string reference, string targetDirectory, Action<string> log, CancellationToken ct) =>
        PullAsync(reference, null, targetDirectory, log, ct);

    /// <summary>Pulls <paramref name="reference"/> (<c>python:3.12-slim</c>, <c>host:5000/team/app@sha256:…</c>) into <paramref name="targetDirectory"/>.</summary>
    public Task<OciImage> PullAsync(string reference, OciCredentials? credentials, string targetDirectory, Action<string> log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        var image = OciReference.Parse(reference);
        return RunAsync(targetDirectory, async (staging, token) =>
        {
            using var registry = new OciRegistryClient(image, options, credentials);
            var (body, mediaType) = await registry.GetManifestAsync(image.ManifestReference, token).ConfigureAwait(false);
            var digest = OciDigest.Of(body);
            if (image.Digest is not null && digest != image.Digest)
            {
                throw new OciException(OciErrors.DigestMismatch, $"the manifest of {image} hashes to {digest}: refused as tampered with");
            }
            string? indexDigest = null;
            if (OciManifests.IsIndex(mediaType, body))
            {
                indexDigest = digest;
                var chosen = OciManifests.ChooseManifest(OciManifests.ReadIndex(body, $"index {digest}"), image.ToString());
                (body, _) = await registry.GetManifestAsync(chosen.Digest, token).ConfigureAwait(false);
                digest = OciDigest.Of(body) == chosen.Digest ? chosen.Digest
                    : throw new OciException(OciErrors.DigestMismatch, $"manifest {chosen.Digest} of {image} does not match its digest: refused as tampered with");
            }
            log($"{image} is {digest}" + (indexDigest is null ? "" : $" (from index {indexDigest})"));
            var manifest = OciManifests.ReadManifest(body, $"manifest {digest}");
            if (manifest.Layers.Count > options.MaxLayers)
            {
                throw new OciException(OciErrors.TooLarge, $"{image} has {manifest.Layers.Count} layers, over the limit of {options.MaxLayers}");
            }
            if (manifest.Config.Size > options.MaxManifestBytes)
            {
                throw new OciException(OciErrors.TooLarge, $"the config of {image} is {manifest.Config.Size} bytes, over the {options.MaxManifestBytes} byte limit");
            }
            var configPath = Path.Join(staging, "config");
            await registry.DownloadBlobAsync(manifest.Config, configPath, token).ConfigureAwait(false);
            var layers = new List<string>();
            foreach (var (layer, index) in manifest.Layers.Select((layer, index) => (layer, index)))
            {
                log($"layer {index + 1}/{manifest.Layers.Count}: {OciDigest.Short(layer.Digest)} ({Megabytes(layer.Size)})");
                var path = Path.Join(staging, $"layer-{index}");
                await registry.DownloadBlobAsync(layer, path, token).ConfigureAwait(false);
                layers.Add(path);
            }
            return Unpack(image.ToString(), digest, indexDigest, await File.ReadAllBytesAsync(configPath, token).ConfigureAwait(false), layers, targetDirectory, log, token);
        }, ct);
    }

    /// <summary>Unpacks an image archive (<c>docker save</c> or an OCI image layout as a tar, plain or gzipped) into <paramref name="targetDirectory"/>.</summary>
    public Task<OciImage> UnpackArchiveAsync(string archivePath, string targetDirectory, Action<string> log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!File.Exists(archivePath))
        {
            throw new OciException(OciErrors.InvalidArchive, $"the image archive '{archivePath}' does not exist");
        }
        return RunAsync(targetDirectory, (staging, token) =>
        {
            var contents = new OciArchiveReader(archivePath, staging, options).Read(token);
            log($"{Path.GetFileName(archivePath)} is {contents.Digest}");
            return Task.FromResult(Unpack(Path.GetFileName(archivePath), contents.Digest, contents.IndexDigest, contents.Config, contents.LayerFiles, targetDirectory, log, token));
        }, ct);
    }

    private OciImage Unpack(string source, string digest, string? indexDigest, byte[] configBody, IReadOnlyList<string> layers, string root,
        Action<string> log, CancellationToken ct)
    {
        var config = OciManifests.ReadConfig(configBody, $"the config of {source}");
        var platform = $"{config.Os}/{config.Architecture}";
        if (config.Os != "linux" || config.Architecture != OciManifests.Architecture)
        {
            throw new OciException(OciErrors.PlatformUnavailable, $"{source} is built for {platform}, and this machine runs linux/{OciManifests.Architecture}");
        }
        if (config.DiffIds.Count != layers.Count)
        {
            throw new OciException(OciErrors.InvalidManifest, $"{source} has {layers.Count} layers but its config lists {config.DiffIds.Count} diff ids");
        }
        var unpacker = new LayerUnpacker(root, options, log);
        long unpacked = 0;
        for (var index = 0; index < layers.Count; index++)
        {
            var what = $"layer {index + 1}/{layers.Count} of {source}";
            var diffId = unpacker.Apply(layers[index], what, ct);
            if (diffId != config.DiffIds[index])
            {
                throw new OciException(OciErrors.DigestMismatch, $"{what} unpacks to {diffId}, not the config's {config.DiffIds[index]}: refused as tampered with");
            }
            unpacked += new FileInfo(layers[index]).Length;
        }
        unpacker.Finish();
        log($"unpacked {layers.Count} layers ({Megabytes(unpacked)} compressed) for {platform}");
        return new OciImage(source, digest, indexDigest, platform, config.Env, config.WorkingDir, config.Entrypoint, config.Cmd, config.User, layers.Count, unpacker.UnpackedBytes);
    }

    /// <summary>Runs a pull or an unpack under the whole-pull deadline, with a staging directory of its own, and leaves no half-written target behind.</summary>
    private async Task<OciImage> RunAsync(string targetDirectory, Func<string, CancellationToken, Task<OciImage>> work, CancellationToken ct)
    {
        var target = Path.GetFullPath(targetDirectory);
        if (Directory.Exists(target) ? Directory.EnumerateFileSystemEntries(target).Any() : File.Exists(target))
        {
            throw new ArgumentException($"the target directory '{target}' must be missing or empty", nameof(targetDirectory));
        }
        Directory.CreateDirectory(target);
        var staging = Directory.CreateTempSubdirectory("kennel-oci-").FullName;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.PullTimeout);
        var succeeded = false;
        try
        {
            var image = await Task.Run(() => work(staging, deadline.Token), deadline.Token).ConfigureAwait(false);
            succeeded = true;
            return image;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new OciException(OciErrors.Timeout, $"the image did not arrive and unpack within {options.PullTimeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes");
        }
        catch (Exception failed) when (failed is IOException or UnauthorizedAccessException)
        {
            throw new OciException(OciErrors.UnpackFailed, $"the image could not be written to {target}: {failed.Message}");
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
            if (!succeeded)
            {
                Directory.Delete(target, recursive: true);
            }
        }
    }

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
