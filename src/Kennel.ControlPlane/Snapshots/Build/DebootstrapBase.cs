using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Kennel.ControlPlane.Snapshots.Recipes;
using Kennel.Sandbox.Snapshots;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// A Debian or Ubuntu base from <c>debootstrap</c>, fetched from the mirror the host's own apt sources use for that
/// suite (so it goes wherever the host's packages come from, and debootstrap checks the archive's signatures with the
/// host's keyring). debootstrap needs real root (it makes device nodes and runs the packages' scripts in a chroot), so
/// it runs on the host, with nothing of the recipe but the suite and variant; everything after it runs sandboxed. Its
/// output depends on nothing else, so it is kept once for the installation (<c>bases/</c> in the image directory, shared
/// by every workspace) and bootstrapped again only when that copy is removed.
/// </summary>
public sealed class DebootstrapBase(AptSources sources, SnapshotOptions options) : ISnapshotBaseSource
{
    private static readonly string[] Locations = ["/usr/sbin/debootstrap", "/usr/bin/debootstrap"];

    public string Kind => "debootstrap";

    public Task<string> KeyAsync(SnapshotBuildContext context, RecipeBase recipeBase, CancellationToken cancellationToken)
    {
        var spec = recipeBase.Debootstrap!;
        return Task.FromResult($"debootstrap\n{spec.Suite}\n{spec.Variant}\n{Mirror(spec.Suite)}");
    }

    public async Task PrepareAsync(SnapshotBuildContext context, RecipeBase recipeBase, string rootfs, CancellationToken cancellationToken)
    {
        var spec = recipeBase.Debootstrap!;
        if (!Environment.IsPrivilegedProcess)
        {
            throw new SnapshotBuildException("base_unsupported", "A debootstrap base needs the control plane to run as root.");
        }
        var debootstrap = Locations.FirstOrDefault(File.Exists)
            ?? throw new SnapshotBuildException("base_unsupported", "debootstrap is not installed on the control plane; install it with: apt-get install debootstrap");
        var mirror = Mirror(spec.Suite);
        var kept = Path.Join(options.Directory, "bases", $"debootstrap-{spec.Suite}-{spec.Variant}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(mirror)))[..16]}.tar");
        if (File.Exists(kept))
        {
            await context.Log($"debootstrap {spec.Suite}/{spec.Variant} from {mirror}: the installation's copy");
            Directory.Delete(rootfs);
            await SnapshotImage.ExtractAsync(kept, rootfs, cancellationToken);
            return;
        }
        await context.Log($"debootstrap --variant={spec.Variant} {spec.Suite} from {mirror}");
        var start = new ProcessStartInfo(debootstrap) { ArgumentList = { $"--variant={spec.Variant}", spec.Suite, rootfs, mirror } };
        var exit = await BuildProcess.RunAsync(start, context.Log, cancellationToken);
        if (exit != 0)
        {
            throw new SnapshotBuildException("base_failed", $"debootstrap exited with {exit}; the log has its output.");
        }
        // The host's resolver was copied in for the bootstrap; an image carries none (sessions have no network).
        var resolv = Path.Join(rootfs, "etc", "resolv.conf");
        if (File.Exists(resolv) && new FileInfo(resolv).LinkTarget is null)
        {
            await File.WriteAllTextAsync(resolv, "", cancellationToken);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
        var writing = $"{kept}.{Guid.NewGuid():N}";
        await SnapshotImage.CreateAsync(rootfs, writing, options.MaxImageBytes, cancellationToken);
        File.Move(writing, kept, overwrite: true);
    }

    private string Mirror(string suite) => sources.MirrorFor(suite)
        ?? throw new SnapshotBuildException("base_unsupported",
            $"The host's apt sources list no mirror for the suite '{suite}'; they have: {string.Join(", ", sources.Suites)}.");
}
