using System.Text.Json.Serialization;
using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>A <c>snapshots</c> row as the store reads it: one build.</summary>
public sealed class SnapshotRow
{
    public string Id { get; set; } = "";
    public string WorkspaceId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Status { get; set; } = "";
    public string? Digest { get; set; }
    public long? Size { get; set; }
    public string Base { get; set; } = "";
    public string Recipe { get; set; } = "";
    public string Tags { get; set; } = "[]";
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string Log { get; set; } = "";
    public string? CreatedBy { get; set; }
    public long CreatedAt { get; set; }
    public long? FinishedAt { get; set; }
    public string? LeaseOwner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public long Attempts { get; set; }
}

/// <summary>Snapshot statuses, as stored and shown.</summary>
public static class SnapshotStatus
{
    public const string Building = "building";
    public const string Ready = "ready";
    public const string Failed = "failed";
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotRecipe))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(RecipeFile[]))]
internal sealed partial class SnapshotJson : JsonSerializerContext;
