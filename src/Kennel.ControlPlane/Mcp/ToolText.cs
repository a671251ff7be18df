using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Fleet;
using ModelContextProtocol.Protocol;

namespace Kennel.ControlPlane.Mcp;

/// <summary>A tool's answer: the value as structured content (what the output schema describes) plus a readable rendering.</summary>
public static class ToolResults
{
    public static CallToolResult Of<T>(T value, JsonTypeInfo<T> json, string text) => new()
    {
        StructuredContent = JsonSerializer.SerializeToElement(value, json),
        Content = [new TextContentBlock { Text = text }],
    };
}

/// <summary>The readable renderings: what a person (or a model skimming) needs first, one fact per line.</summary>
public static class ToolText
{
    public static string Session(Session session)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Session {session.Id}: {Status(session)}");
        text.Append(CultureInfo.InvariantCulture, $"\nsnapshot {session.Snapshot}, {Workload(session)}");
        if (session.Error is { } error)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nerror {error.Code}: {error.Message}");
        }
        if (session.StartedAt is { } started && session.EndedAt is { } ended)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nran {(ended - started).TotalSeconds:0.###} s");
        }
        if (session.Egress is { } egress)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nnetwork {session.Network.Mode}: {egress.BytesIn} bytes in, {egress.BytesOut} out, {egress.Refused} refused");
            foreach (var refused in egress.RefusedDestinations)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  refused {refused.Host}:{refused.Port} ({refused.Rule})");
            }
        }
        AppendOutput(text, "stdout", session.Stdout);
        AppendOutput(text, "stderr", session.Stderr);
        if (session.Truncated)
        {
            text.Append("\n(output was cut at the server's output limit)");
        }
        return text.ToString();
    }

    public static string Page(SessionPage page)
    {
        if (page.Items.Count == 0)
        {
            return "No sessions.";
        }
        var text = new StringBuilder();
        foreach (var session in page.Items)
        {
            text.Append(CultureInfo.InvariantCulture, $"{session.Id}  {Status(session)}  {session.CreatedAt:u}  {Workload(session)}\n");
        }
        text.Append(page.NextCursor is { } cursor ? $"More: call list-sessions with cursor \"{cursor}\"." : "No more sessions.");
        return text.ToString();
    }

    public static string Progress(Session session)
    {
        var lines = session.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? Status(session) : $"{Status(session)}; {lines.Length} line(s) of output, last: {Shorten(lines[^1], 200)}";
    }

    public static string Snapshots(Mcp.SnapshotList list) =>
        string.Join('\n', list.Snapshots.Select(s => s.Default ? $"{s.Name} (default)"
            : string.Create(CultureInfo.InvariantCulture,
                $"{s.Name}{(s.Tags is { Count: > 0 } tags ? ":" + string.Join(",", tags) : "")} {s.Id} {s.Status} {s.Digest ?? "-"} {s.Size?.ToString(CultureInfo.InvariantCulture) ?? "-"} bytes, " +
                $"base {s.Base}, created {s.CreatedAt:u}, held by {s.Workers} worker(s){(s.Error is { } error ? ", error " + error : "")}")));

    public static string Overview(FleetOverview overview)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Workers: {overview.HealthyWorkers} healthy of {overview.Workers}\n");
        var whose = overview.Scope == FleetOverview.FleetScope ? "Fleet" : "This workspace";
        text.Append(CultureInfo.InvariantCulture, $"{whose}: {overview.ActiveSessions} running, {overview.QueueDepth} queued\n");
        var open = overview.Scope == FleetOverview.FleetScope ? "Capacity" : "Capacity open to this workspace";
        text.Append(CultureInfo.InvariantCulture,
            $"{open}: {overview.Used.Vcpus}/{overview.Capacity.Vcpus} vCPUs, {overview.Used.MemoryMb}/{overview.Capacity.MemoryMb} MiB, " +
            $"{overview.Used.Slots}/{overview.Capacity.Slots} slots in use; free: {overview.Free.Vcpus} vCPUs, {overview.Free.MemoryMb} MiB, {overview.Free.Slots} slots");
        if (overview.Limits is { } limits)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\nLimits: {Limit(limits.MaxRunningSessions)} running sessions, {Limit(limits.MaxVcpus)} vCPUs, {Limit(limits.MaxQueuedSessions)} queued sessions");
        }
        foreach (var load in overview.Workspaces ?? [])
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\n  {load.Workspace}: {load.Usage.RunningSessions} running ({load.Usage.Vcpus} vCPUs, {load.Usage.MemoryMb} MiB), {load.Usage.QueuedSessions} queued");
        }
        return text.ToString();
    }

    private static string Limit(int? limit) => limit is { } l ? l.ToString(CultureInfo.InvariantCulture) : "no limit on";

    public static string Workers(Mcp.WorkerList list) => list.Workers.Count == 0
        ? "No workers are enrolled."
        : string.Join('\n', list.Workers.Select(w =>
            $"{w.Id}  {w.Name} ({w.Kind})  {w.Health}  used {w.Used.Vcpus}/{w.Capacity.Vcpus} vCPUs, {w.Used.MemoryMb}/{w.Capacity.MemoryMb} MiB, " +
            $"{w.Used.Slots}/{w.Capacity.Slots} slots  last seen {(w.LastSeenAt is { } seen ? seen.ToString("u", CultureInfo.InvariantCulture) : "never")}"));

    private static string Status(Session session) => session.ExitCode is { } code
        ? $"{session.Status.ToWire()} (exit code {code})"
        : session.Status.ToWire();

    private static string Workload(Session session) => session.Script is { } script
        ? $"script: {Shorten(script, 80)}"
        : $"command: {Shorten(string.Join(' ', session.Command ?? []), 80)}";

    private static void AppendOutput(StringBuilder text, string stream, string output)
    {
        if (output.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n--- {stream} ---\n{output.TrimEnd('\n')}");
        }
    }

    private static string Shorten(string value, int max)
    {
        var line = value.ReplaceLineEndings(" ");
        return line.Length <= max ? line : string.Concat(line.AsSpan(0, max), "…");
    }
}
