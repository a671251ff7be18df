using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// The snapshots sessions can name: the built-in <c>test-minimal</c> (the host's /usr, read-only, with a synthetic
/// /etc) everywhere, and each workspace's ready builds, by <c>name</c>, <c>name:tag</c> or <c>name@sha256:…</c>. An
/// unknown name is an error, never a fallback.
/// </summary>
public sealed class SnapshotCatalog(SnapshotStore store)
{
    public const string TestMinimal = "test-minimal";

    public static IReadOnlyList<string> BuiltIn { get; } = [TestMinimal];

    /// <summary>The built-in snapshots' names.</summary>
    public IReadOnlyList<string> Names { get; } = BuiltIn;

    public static bool IsBuiltIn(string name) => BuiltIn.Contains(name, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="name"/> can name a snapshot at all: a built-in, or a well-formed reference. Whether it does is <see cref="RequireAsync"/>'s to say.</summary>
    public bool CanName(string name) => Names.Contains(name, StringComparer.Ordinal) || SnapshotReference.TryParse(name, out _);

    /// <summary>
    /// The ready build a reference names in the workspace; null for a built-in. Throws <c>snapshot_not_found</c> (400,
    /// on <paramref name="field"/>) for a name that names nothing.
    /// </summary>
    public async Task<SnapshotRow?> RequireAsync(string workspaceId, string name, string field, CancellationToken cancellationToken)
    {
        if (IsBuiltIn(name))
        {
            return null;
        }
        if (SnapshotReference.TryParse(name, out var reference) && await store.ResolveAsync(workspaceId, reference, cancellationToken) is { } row)
        {
            return row;
        }
        throw NotFound(name, field);
    }

    public static ApiProblem NotFound(string name, string field) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.SnapshotNotFound, "The snapshot does not exist.",
            $"There is no ready snapshot '{name}' in this workspace (built-in: {string.Join(", ", BuiltIn)}); list-snapshots shows the choices.", field);
}
