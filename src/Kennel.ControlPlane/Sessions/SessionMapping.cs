using System.Text.Json;
using Kennel.Contracts.Sessions;

namespace Kennel.ControlPlane.Sessions;

internal static class SessionMapping
{
    public static Session ToContract(this SessionRow row, string? liveStdout = null, string? liveStderr = null)
    {
        var spec = JsonSerializer.Deserialize(row.Spec, StoreJson.Default.StoredSessionSpec)!;
        var status = SessionStatuses.TryParse(row.Status, out var parsed)
            ? parsed
            : throw new InvalidOperationException($"Session {row.Id} has an unknown status '{row.Status}' in the store.");
        return new Session
        {
            Id = row.Id,
            Workspace = row.WorkspaceName,
            Status = status,
            Snapshot = row.Snapshot,
            SnapshotDigest = row.SnapshotDigest is { } digest ? "sha256:" + digest : null,
            Script = spec.Script,
            Command = spec.Command,
            Env = spec.Env,
            Secrets = spec.Secrets ?? [],
            TimeoutMs = row.TimeoutMs,
            Resources = new SessionResources { Vcpus = row.Vcpus, MemoryMb = row.MemoryMb },
            Network = spec.Network() ?? new SessionNetwork { Mode = spec.NetworkMode },
            Egress = row.Egress is { } egress ? JsonSerializer.Deserialize(egress, StoreJson.Default.SessionEgress) : null,
            Metadata = spec.Metadata,
            ExitCode = row.ExitCode,
            Stdout = row.Stdout ?? liveStdout ?? "",
            Stderr = row.Stderr ?? liveStderr ?? "",
            Truncated = row.Truncated != 0,
            Error = row.ErrorCode is { } code ? new SessionError(code, row.ErrorMessage ?? "") : null,
            CreatedAt = FromMs(row.CreatedAt),
            StartedAt = row.StartedAt is { } started ? FromMs(started) : null,
            EndedAt = row.EndedAt is { } ended ? FromMs(ended) : null,
            WorkerId = row.WorkerId,
            VcpuSeconds = Math.Round(row.VcpuSeconds, 3),
            CpuSeconds = Math.Round(row.CpuSeconds, 3),
            Daemon = row.Daemon,
            Trigger = row.TriggerType,
            ScheduledFor = row.ScheduledFor is { } due ? FromMs(due) : null,
            CatchUp = row.CatchUp != 0 ? true : null,
        };
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
