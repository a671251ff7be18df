namespace Kennel.Sandbox.Snapshots;

/// <summary>A root filesystem a sandbox starts from.</summary>
/// <param name="Name">The name a session asks for, e.g. <c>test-minimal</c>.</param>
/// <param name="MountArguments">bwrap arguments that build the root from host directories, all read-only.</param>
internal sealed record Snapshot(string Name, IReadOnlyList<string> MountArguments);
