using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// One kind of base a recipe can start from (<c>debootstrap</c>, <c>snapshot</c>, and the OCI kinds once registered).
/// The builder asks it for a key first, and only when no build step is cached under that key, for the root filesystem.
/// Register implementations as <c>ISnapshotBaseSource</c> singletons; a recipe whose kind has none is refused with
/// <c>base_unsupported</c>.
/// </summary>
public interface ISnapshotBaseSource
{
    /// <summary>The recipe's base key this source serves: <c>debootstrap</c>, <c>snapshot</c>, <c>oci</c> or <c>ociArchive</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Text that names the base's content, which keys the step cache: equal keys must mean equal roots (an OCI source
    /// resolves a tag to its manifest digest here, so a moved tag builds again). Throw <see cref="SnapshotBuildException"/>
    /// when the base cannot be had.
    /// </summary>
    Task<string> KeyAsync(SnapshotBuildContext context, RecipeBase recipeBase, CancellationToken cancellationToken);

    /// <summary>
    /// Fills <paramref name="rootfs"/> (an empty directory) with the base's root filesystem, writing progress to the
    /// build's log. Throw <see cref="SnapshotBuildException"/> with a stable code on failure.
    /// </summary>
    Task PrepareAsync(SnapshotBuildContext context, RecipeBase recipeBase, string rootfs, CancellationToken cancellationToken);
}

/// <summary>What a base source knows of the build it serves.</summary>
/// <param name="WorkspaceId">The workspace that builds: a base snapshot is looked up in it alone.</param>
/// <param name="BuildId">The build's id (<c>snp_…</c>).</param>
/// <param name="ScratchDirectory">A directory of the build's own for temporary files, removed with the build.</param>
/// <param name="Log">Appends a line to the build's log.</param>
public sealed record SnapshotBuildContext(string WorkspaceId, string BuildId, string ScratchDirectory, Func<string, Task> Log);

/// <summary>A build that cannot go on, with a stable code (<c>base_unsupported</c>, <c>step_failed</c>…) and the reason.</summary>
public sealed class SnapshotBuildException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
