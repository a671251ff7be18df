using Kennel.ControlPlane.Snapshots.Recipes;
using Kennel.Sandbox.Snapshots;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// Another snapshot of the workspace as the base. The build request pinned it to a digest when it was accepted
/// (<c>name@sha256:…</c>), so a tag that moves during the build changes nothing.
/// </summary>
public sealed class SnapshotImageBase(SnapshotStore store, SnapshotOptions options) : ISnapshotBaseSource
{
    public string Kind => "snapshot";

    public async Task<string> KeyAsync(SnapshotBuildContext context, RecipeBase recipeBase, CancellationToken cancellationToken) =>
        "snapshot\n" + (await ResolveAsync(context, recipeBase, cancellationToken)).Digest;

    public async Task PrepareAsync(SnapshotBuildContext context, RecipeBase recipeBase, string rootfs, CancellationToken cancellationToken)
    {
        var digest = (await ResolveAsync(context, recipeBase, cancellationToken)).Digest!;
        await context.Log($"base: snapshot {recipeBase.Snapshot}");
        var image = options.ImagePath(digest);
        if (!File.Exists(image) || !await SnapshotImage.MatchesAsync(image, digest, cancellationToken))
        {
            throw new SnapshotBuildException("base_failed", $"The image of the base snapshot {recipeBase.Snapshot} is missing or damaged in {options.Directory}.");
        }
        Directory.Delete(rootfs);
        await SnapshotImage.ExtractAsync(image, rootfs, cancellationToken);
    }

    private async Task<SnapshotRow> ResolveAsync(SnapshotBuildContext context, RecipeBase recipeBase, CancellationToken cancellationToken)
    {
        var found = SnapshotReference.TryParse(recipeBase.Snapshot, out var reference)
            ? await store.ResolveAsync(context.WorkspaceId, reference, cancellationToken)
            : null;
        return found
            ?? throw new SnapshotBuildException("snapshot_not_found", $"The base snapshot '{recipeBase.Snapshot}' is not a ready snapshot of this workspace.");
    }
}
