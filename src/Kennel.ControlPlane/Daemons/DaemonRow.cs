using System.Text.Json.Serialization;
using Kennel.Contracts.Daemons;

namespace Kennel.ControlPlane.Daemons;

/// <summary>A <c>daemons</c> row as the store reads it.</summary>
public sealed class DaemonRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string WorkspaceName { get; set; } = "";
    public string Name { get; set; } = "";
    public string Definition { get; set; } = "";
    public string TriggerType { get; set; } = "";
    public string? Signature { get; set; }
    public string? SignatureHeader { get; set; }
    public string? WebhookSecret { get; set; }
    public string? Cron { get; set; }
    public string? Timezone { get; set; }
    public string? CatchUp { get; set; }
    public string Concurrency { get; set; } = "";
    public string Status { get; set; } = "";
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

/// <summary>The parts of a daemon kept as one JSON column: what each run executes. Read back whole, never queried.</summary>
public sealed record StoredDaemonDefinition
{
    public required string Description { get; init; }
    public required string Snapshot { get; init; }
    public required DaemonWorkload Workload { get; init; }
    public required int Vcpus { get; init; }
    public required int MemoryMb { get; init; }
    public required long TimeoutMs { get; init; }

    /// <summary>Each run's network, as checked; null for none.</summary>
    public Contracts.Sessions.SessionNetwork? Network { get; init; }
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredDaemonDefinition))]
[JsonSerializable(typeof(ScheduledPayload))]
internal sealed partial class DaemonJson : JsonSerializerContext;

/// <summary>The payload file of a scheduled run.</summary>
internal sealed record ScheduledPayload(DateTimeOffset ScheduledFor, bool CatchUp);
