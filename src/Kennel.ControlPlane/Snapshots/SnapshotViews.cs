using System.Text.Json;
using Kennel.Contracts.Snapshots;
using Kennel.ControlPlane.Sessions;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>Rows as the API shows them.</summary>
internal static class SnapshotViews
{
    public static IEnumerable<SnapshotView> BuiltIns() => SnapshotCatalog.BuiltIn.Select(name => new SnapshotView
    {
        Id = name,
        Name = name,
        Tags = [],
        Status = SnapshotStatus.Ready,
        Base = "host /usr (read-only) with a generated /etc",
        CreatedAt = DateTimeOffset.UnixEpoch,
        BuiltIn = true,
    });

    public static SnapshotView From(SnapshotRow row, IReadOnlyList<(string Name, string Tag, string SnapshotId)> tags, int workers) => new()
    {
        Id = row.Id,
        Name = row.Name,
        Tags = [.. tags.Where(t => t.SnapshotId == row.Id).Select(t => t.Tag)],
        Digest = row.Digest is null ? null : "sha256:" + row.Digest,
        Size = row.Size,
        Status = row.Status,
        Base = row.Base,
        Error = row.ErrorCode is null ? null : new SnapshotBuildError(row.ErrorCode, row.ErrorMessage ?? ""),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        FinishedAt = row.FinishedAt is { } finished ? DateTimeOffset.FromUnixTimeMilliseconds(finished) : null,
        Workers = workers,
    };

    /// <summary>How many workers list the digest among the snapshots they hold.</summary>
    public static int Holders(IReadOnlyList<string?> holdings, string? digest) => digest is null ? 0
        : holdings.Count(h => h is not null && (JsonSerializer.Deserialize(h, StoreJson.Default.StringArray) ?? []).Contains(digest, StringComparer.Ordinal));
}
