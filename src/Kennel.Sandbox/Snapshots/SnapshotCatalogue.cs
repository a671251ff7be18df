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

    /// <summary>The built-in snapshots, writing the files they need under <paramref name="stateDirectory"/>.</summary>
    public static SnapshotCatalogue CreateBuiltIn(string stateDirectory) => new([CreateTestMinimal(stateDirectory)]);

    public bool TryGet(string name, [NotNullWhen(true)] out Snapshot? snapshot) => _snapshots.TryGetValue(name, out snapshot);

    // The host's /usr read-only under a generated /etc: enough for sh and coreutils, and nothing of the host's data.
    private static Snapshot CreateTestMinimal(string stateDirectory)
    {
        var etc = Path.Join(stateDirectory, "snapshots", TestMinimal, "etc");
        var files = SyntheticEtc.Write(etc).Select(name => new SnapshotFile(Path.Join(etc, name), "/etc/" + name)).ToArray();

        List<string> arguments = ["--ro-bind", "/usr", "/usr"];

        // Merged-/usr layout: the top-level directories are links into /usr, made only where the host has them.
        foreach (var name in new[] { "bin", "sbin", "lib", "lib64" })
        {
            if (Path.Exists("/" + name) && Directory.Exists(Path.Join("/usr", name)))
            {
                arguments.AddRange(["--symlink", "usr/" + name, "/" + name]);
            }
        }

        arguments.AddRange(["--perms", "0755", "--dir", "/etc"]);
        return new Snapshot(TestMinimal, arguments, files);
    }
}
