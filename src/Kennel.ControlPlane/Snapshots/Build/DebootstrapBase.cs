using System.Diagnostics;
using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// A Debian or Ubuntu base from <c>debootstrap</c>, fetched from the mirror the host's own apt sources use for that
/// suite (so it goes wherever the host's packages come from, and debootstrap checks the archive's signatures with the
/// host's keyring). debootstrap needs real root (it makes device nodes and runs the packages' scripts in a chroot), so
/// it runs on the host, with nothing of the recipe but the suite and variant; everything after it runs sandboxed.
/// </summary>
public sealed class DebootstrapBase(AptSources sources) : ISnapshotBaseSource
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
    }

    private string Mirror(string suite) => sources.MirrorFor(suite)
        ?? throw new SnapshotBuildException("base_unsupported",
            $"The host's apt sources list no mirror for the suite '{suite}'; they have: {string.Join(", ", sources.Suites)}.");
}
