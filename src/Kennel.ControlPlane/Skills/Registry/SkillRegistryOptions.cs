using System.Globalization;
using Kennel.ControlPlane.Hosting;

namespace Kennel.ControlPlane.Skills.Registry;

/// <summary>
/// The installation's bounds on registry fetches. <see cref="Roots"/> are the only folders a <c>file:///</c> registry may
/// read from (<c>KENNEL_SKILL_REGISTRY_ROOTS</c>, none by default, so a workspace cannot make Kennel read the host's files).
/// </summary>
public sealed record SkillRegistryOptions
{
    public const string RootsVariable = "KENNEL_SKILL_REGISTRY_ROOTS";
    public const string TimeoutVariable = "KENNEL_SKILL_REGISTRY_TIMEOUT_SECONDS";

    public IReadOnlyList<string> Roots { get; init; } = [];

    /// <summary>The whole index fetch, redirects and body included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The whole archive download; archives are larger than indexes.</summary>
    public TimeSpan ArchiveTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public long MaxIndexBytes { get; init; } = 4 * 1024 * 1024;
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A registry that failed is not asked again before this, so browsing does not wait on it each time.</summary>
    public TimeSpan CacheFailuresFor { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many registry URLs the index cache and the status table hold at most.</summary>
    public int MaxCached { get; init; } = 200;

    public const int MaxRedirects = 5;

    /// <summary>Reads the variables; a bad value stops the start with a message naming the variable.</summary>
    public static SkillRegistryOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var roots = (read(RootsVariable) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (roots.FirstOrDefault(root => !Path.IsPathRooted(root)) is { } relative)
        {
            throw new SettingsException($"{RootsVariable} is absolute folders separated by ':'; '{relative}' is not absolute.");
        }
        var options = new SkillRegistryOptions { Roots = roots };
        if (read(TimeoutVariable)?.Trim() is { Length: > 0 } timeout)
        {
            options = int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 300
                ? options with { Timeout = TimeSpan.FromSeconds(seconds) }
                : throw new SettingsException($"{TimeoutVariable} must be a whole number of seconds from 1 to 300, not '{timeout}'.");
        }
        return options;
    }
}
