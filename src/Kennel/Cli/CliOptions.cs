using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Kennel.Cli;

/// <summary>Options several commands share, declared once.</summary>
public static class CliOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of text for people." };

    /// <summary>A query string of the parameters that have a value, escaped; empty when none has.</summary>
    public static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join('&', given);
    }

    public static void PrintJson<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(JsonSerializer.Serialize(value, type));

    public static string Ago(DateTimeOffset? time) => time is not { } t ? "-" : (DateTimeOffset.UtcNow - t) switch
    {
        var d when d.TotalSeconds < 60 => $"{Math.Max(0, (int)d.TotalSeconds)}s ago",
        var d when d.TotalMinutes < 60 => $"{(int)d.TotalMinutes}m ago",
        var d when d.TotalHours < 48 => $"{(int)d.TotalHours}h ago",
        var d => $"{(int)d.TotalDays}d ago",
    };
}
