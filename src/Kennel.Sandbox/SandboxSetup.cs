using Kennel.Sandbox.Cgroups;
using Kennel.Sandbox.Snapshots;

namespace Kennel.Sandbox;

/// <summary>What the runtime's probe found usable: everything a sandbox start needs.</summary>
/// <param name="Command">bwrap's command line and a session's arguments.</param>
/// <param name="Snapshots">The snapshots this worker can boot.</param>
/// <param name="Cgroups">Where session cgroups go, and which limits they enforce.</param>
/// <param name="SharedDirectory">Where the files every sandbox may read are published.</param>
/// <param name="Uids">From root: the host uids sandboxes take one each of; null runs them as this process's uid.</param>
/// <param name="SeccompProgram">The compiled seccomp filter (see <see cref="Seccomp.SeccompPolicy"/>).</param>
/// <param name="PidsLimit">Processes and threads one sandbox may have.</param>
internal sealed record SandboxSetup(
    BubblewrapCommand Command,
    SnapshotCatalogue Snapshots,
    CgroupLayout Cgroups,
    string SharedDirectory,
    HostUids? Uids,
    byte[] SeccompProgram,
    int PidsLimit);
