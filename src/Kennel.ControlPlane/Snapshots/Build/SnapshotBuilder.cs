using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kennel.ControlPlane.Snapshots.Recipes;
using Kennel.Sandbox.Snapshots;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// Runs one build: the base, then each step (packages, files, each run command), each in a sandbox of its own. After
/// each step the tree becomes an image, cached under the SHA-256 of the step's inputs (the previous step's key and the
/// step itself), so a build whose first steps are unchanged starts from the image of the last unchanged one. The last
/// image is the snapshot.
/// </summary>
public sealed class SnapshotBuilder(IEnumerable<ISnapshotBaseSource> sources, SnapshotStore store, BuildSandbox sandbox, SnapshotOptions options, TimeProvider time)
{
    private const string KeyVersion = "kennel-snapshot-step-v1";

    /// <summary>Builds and returns the image's digest and size. Throws <see cref="SnapshotBuildException"/> when the build fails.</summary>
    internal async Task<(string Digest, long Size)> BuildAsync(SnapshotRow build, BuildLog log, CancellationToken cancellationToken)
    {
        var recipe = JsonSerializer.Deserialize(build.Recipe, SnapshotJson.Default.SnapshotRecipe)!;
        var source = sources.FirstOrDefault(s => s.Kind == recipe.Base.Kind)
            ?? throw new SnapshotBuildException("base_unsupported", $"This control plane cannot build from a base of kind '{recipe.Base.Kind}' yet.");
        var scratch = Path.Join(options.EffectiveBuildDirectory, build.Id);
        DeleteTree(scratch);
        Directory.CreateDirectory(scratch);
        Directory.CreateDirectory(Path.Join(options.Directory, "images"));
        var context = new SnapshotBuildContext(build.WorkspaceId, build.Id, scratch, log.WriteAsync);
        try
        {
            var steps = Steps(recipe);
            var keys = new List<string> { Hash($"{KeyVersion}\nbase\n{await source.KeyAsync(context, recipe.Base, cancellationToken)}") };
            foreach (var step in steps)
            {
                keys.Add(Hash($"{keys[^1]}\n{step.Kind}\n{step.Key}"));
            }
            var total = steps.Count + 1;

            // The newest cached step whose image is still whole is where the build starts.
            var start = -1;
            (string Digest, long Size) image = default;
            for (var i = keys.Count - 1; i >= 0 && start < 0; i--)
            {
                if (await store.CachedStepAsync(build.WorkspaceId, keys[i], cancellationToken) is { } cached && File.Exists(options.ImagePath(cached.Digest)))
                {
                    start = i;
                    image = cached;
                }
            }
            for (var i = 0; i <= start; i++)
            {
                await log.WriteAsync($"==> step {i + 1}/{total} {(i == 0 ? "base " + recipe.Base.Describe() : steps[i - 1].Describe)}: cached");
            }
            if (start == keys.Count - 1)
            {
                return image;
            }

            var rootfs = Path.Join(scratch, "rootfs");
            if (start < 0)
            {
                await log.WriteAsync($"==> step 1/{total} base {recipe.Base.Describe()}: building");
                Directory.CreateDirectory(rootfs);
                await source.PrepareAsync(context, recipe.Base, rootfs, cancellationToken);
                image = await ImageAsync(build, keys[0], rootfs, cancellationToken);
                start = 0;
            }
            else
            {
                await SnapshotImage.ExtractAsync(options.ImagePath(image.Digest!), rootfs, cancellationToken);
            }
            await sandbox.OwnAsync(rootfs, cancellationToken);
            for (var i = start; i < steps.Count; i++)
            {
                var step = steps[i];
                await log.WriteAsync($"==> step {i + 2}/{total} {step.Describe}: running");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.StepTimeout);
                int exit;
                try
                {
                    exit = await RunStepAsync(step, recipe, scratch, rootfs, log, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new SnapshotBuildException("step_timeout", $"Step {i + 2} ({step.Describe}) ran past {options.StepTimeout.TotalMinutes} minutes.");
                }
                if (exit != 0)
                {
                    throw new SnapshotBuildException("step_failed", $"Step {i + 2} ({step.Describe}) exited with {exit}; the log has its output.");
                }
                image = await ImageAsync(build, keys[i + 1], rootfs, cancellationToken);
            }
            return image;
        }
        finally
        {
            DeleteTree(scratch);
        }
    }

    private async Task<int> RunStepAsync(BuildStep step, SnapshotRecipe recipe, string scratch, string rootfs, BuildLog log, CancellationToken cancellationToken)
    {
        switch (step.Kind)
        {
            case "packages":
                // apt runs as the sandbox's root: its own privilege drop to _apt needs uids the user namespace does not map.
                const string Apt = "apt-get -o APT::Sandbox::User=root -o Dpkg::Use-Pty=0 -q";
                var packages = string.Join(' ', recipe.Packages);
                return await sandbox.RunAsync(rootfs,
                    $"{Apt} update && {Apt} install -y --no-install-recommends {packages} && {Apt} clean && rm -rf /var/lib/apt/lists/*",
                    recipe, [], log.WriteAsync, cancellationToken);
            case "files":
                var staging = Path.Join(scratch, "files");
                Directory.CreateDirectory(staging);
                File.SetUnixFileMode(staging, (UnixFileMode)0b111_101_101);
                var script = new StringBuilder("set -e\n");
                for (var i = 0; i < recipe.Files.Count; i++)
                {
                    var file = recipe.Files[i];
                    var name = i.ToString(CultureInfo.InvariantCulture);
                    await File.WriteAllTextAsync(Path.Join(staging, name), file.Content, cancellationToken);
                    File.SetUnixFileMode(Path.Join(staging, name), (UnixFileMode)0b110_100_100);
                    // Written from inside the sandbox, so a link in the image can never point the write at the host.
                    script.Append(CultureInfo.InvariantCulture, $"install -D -m {file.Mode} /run/kennel-files/{name} '{file.Path.Replace("'", "'\\''", StringComparison.Ordinal)}'\n");
                }
                return await sandbox.RunAsync(rootfs, script.ToString(), recipe, [("kennel-files", staging)], log.WriteAsync, cancellationToken);
            default:
                return await sandbox.RunAsync(rootfs, step.Command, recipe, [], log.WriteAsync, cancellationToken);
        }
    }

    /// <summary>Writes the tree's image into the image directory under its digest, and caches it under the step's key.</summary>
    private async Task<(string Digest, long Size)> ImageAsync(SnapshotRow build, string key, string rootfs, CancellationToken cancellationToken)
    {
        var writing = Path.Join(options.Directory, "images", $".{build.Id}.{Guid.NewGuid():N}.tar");
        (string Digest, long Size) image;
        try
        {
            image = await SnapshotImage.CreateAsync(rootfs, writing, options.MaxImageBytes, cancellationToken);
        }
        catch (IOException e)
        {
            throw new SnapshotBuildException("image_failed", $"The image could not be written: {e.Message}");
        }
        // Equal digests are equal bytes, so a build that raced this one to the same image replaces it with itself.
        File.Move(writing, options.ImagePath(image.Digest), overwrite: true);
        await store.CacheStepAsync(build.WorkspaceId, key, image.Digest, image.Size, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        return image;
    }

    /// <summary>The recipe's steps after the base, in the order they run.</summary>
    internal static List<BuildStep> Steps(SnapshotRecipe recipe)
    {
        var steps = new List<BuildStep>();
        if (recipe.Packages.Count > 0)
        {
            steps.Add(new BuildStep("packages", string.Join('\n', recipe.Packages), "packages " + string.Join(' ', recipe.Packages)));
        }
        if (recipe.Files.Count > 0)
        {
            var files = JsonSerializer.Serialize(recipe.Files.ToArray(), SnapshotJson.Default.RecipeFileArray);
            steps.Add(new BuildStep("files", files, $"files ({recipe.Files.Count})"));
        }
        // The env and workdir reach every run step, so they are part of each run step's inputs.
        var environment = string.Join('\n', recipe.Env.Select(e => $"{e.Key}={e.Value}")) + "\n" + recipe.Workdir;
        foreach (var command in recipe.Run)
        {
            steps.Add(new BuildStep("run", command, "run " + (command.Length > 60 ? command[..60] + "…" : command), environment));
        }
        return steps;
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static void DeleteTree(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    internal sealed record BuildStep(string Kind, string Command, string Describe, string Environment = "")
    {
        /// <summary>What keys the step: its command and, for a run step, the env and workdir it runs with.</summary>
        public string Key => $"{Command}\n{Environment}";
    }
}
