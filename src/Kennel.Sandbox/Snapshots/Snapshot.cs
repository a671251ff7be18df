namespace Kennel.Sandbox.Snapshots;

/// <summary>A root filesystem a sandbox starts from.</summary>
/// <param name="Name">The name a session asks for, e.g. <c>test-minimal</c>.</param>
/// <param name="MountArguments">bwrap arguments that build the root from host directories.</param>
/// <param name="Files">Generated files copied into the root, read-only, at each start.</param>
internal sealed record Snapshot(string Name, IReadOnlyList<string> MountArguments, IReadOnlyList<SnapshotFile> Files);

/// <summary>
/// A file the launching shell opens on the host while it still runs as the worker's user, and bwrap copies into
/// the sandbox from that descriptor. Binding the path instead would need the state directory to be readable by
/// the unprivileged sandbox uid, which a data directory should not be.
/// </summary>
internal sealed record SnapshotFile(string HostPath, string SandboxPath);
