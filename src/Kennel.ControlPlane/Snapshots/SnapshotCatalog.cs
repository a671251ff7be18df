namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// The snapshots sessions can name. For now only the built-in <c>test-minimal</c> (the host's /usr, read-only, with a
/// synthetic /etc); built snapshots will join it here.
/// </summary>
public sealed class SnapshotCatalog
{
    public const string TestMinimal = "test-minimal";

    public IReadOnlyList<string> Names { get; } = [TestMinimal];

    public bool Contains(string name) => Names.Contains(name, StringComparer.Ordinal);
}
