using System.Diagnostics.CodeAnalysis;

namespace Kennel.Sandbox.Snapshots;

/// <summary>The snapshots this worker can start sandboxes from.</summary>
internal sealed class SnapshotCatalogue
{
    public const string TestMinimal = "test-minimal";

    private readonly Dictionary<string, Snapshot> _snapshots;

    private SnapshotCatalogue(IEnumerable<Snapshot> snapshots) =>
        _snapshots = snapshots.ToDictionary(s => s.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _snapshots.Keys;

    /// <summary>The built-in snapshots, publishing the files they mount under <paramref name="sharedDirectory"/>.</summary>
    public static SnapshotCatalogue CreateBuiltIn(string sharedDirectory) => new([CreateTestMinimal(sharedDirectory)]);

    public bool TryGet(string name, [NotNullWhen(true)] out Snapshot? snapshot) => _snapshots.TryGetValue(name, out snapshot);

    // The host's /usr read-only under a generated /etc: enough for sh and coreutils, and nothing of the host's data.
    private static Snapshot CreateTestMinimal(string sharedDirectory)
    {
        var etc = SyntheticEtc.Publish(sharedDirectory);
        List<string> arguments = ["--ro-bind", "/usr", "/usr"];

        // Merged-/usr layout: the top-level directories are links into /usr, made only where the host has them.
        foreach (var name in new[] { "bin", "sbin", "lib", "lib64" })
        {
            if (Path.Exists("/" + name) && Directory.Exists(Path.Join("/usr", name)))
            {
                arguments.AddRange(["--symlink", "usr/" + name, "/" + name]);
            }
        }

        // One bind of the whole generated directory: nothing of the host's /etc shows through.
        arguments.AddRange(["--ro-bind", etc, "/etc"]);
        return new Snapshot(TestMinimal, arguments);
    }
}
