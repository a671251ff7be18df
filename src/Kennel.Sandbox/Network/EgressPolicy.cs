namespace Kennel.Sandbox.Network;

/// <summary>How a sandbox with network reaches out: only to the listed destinations, or to any public address.</summary>
public enum EgressMode
{
    Allowlist,
    Open,
}

/// <summary>
/// A session's network, once checked: its mode, its rules (for <see cref="EgressMode.Allowlist"/>) and the most bytes it
/// may move in and out together. A session without one has no network at all.
/// </summary>
public sealed record EgressPolicy(EgressMode Mode, IReadOnlyList<EgressRule> Rules, long? ByteCap)
{
    public const string None = "none";
    public const string AllowlistName = "allowlist";
    public const string OpenName = "open";
    public const int MaxRules = 64;
    public const long MaxByteCap = 1L << 40;

    /// <summary>The refusal rule of a destination no allow-list entry names.</summary>
    public const string NotListed = "not-in-allowlist";

    /// <summary>
    /// Checks a request's network: <paramref name="mode"/> <c>none</c> (or null) gives null, no network. Throws
    /// <see cref="EgressPolicyException"/> naming the field at fault.
    /// </summary>
    public static EgressPolicy? Parse(string? mode, IReadOnlyList<string>? allow, long? byteCap)
    {
        var parsed = (mode ?? None) switch
        {
            None => (EgressMode?)null,
            AllowlistName => EgressMode.Allowlist,
            OpenName => EgressMode.Open,
            _ => throw new EgressPolicyException("network.mode", $"network.mode '{mode}' is not one of none (no network), allowlist (only the hosts in network.allow) or open (any public address)."),
        };
        if (parsed is not EgressMode.Allowlist && allow is { Count: > 0 })
        {
            throw new EgressPolicyException("network.allow", "network.allow is only for network.mode allowlist.");
        }
        if (parsed is null)
        {
            return byteCap is null ? null : throw new EgressPolicyException("network.byteCap", "network.byteCap needs a network: mode allowlist or open.");
        }
        if (byteCap is < 1 or > MaxByteCap)
        {
            throw new EgressPolicyException("network.byteCap", $"network.byteCap must be between 1 and {MaxByteCap} bytes.");
        }
        var rules = new List<EgressRule>();
        if (parsed is EgressMode.Allowlist)
        {
            if (allow is not { Count: > 0 } || allow.Count > MaxRules)
            {
                throw new EgressPolicyException("network.allow", $"network.mode allowlist needs network.allow: 1-{MaxRules} host names such as api.github.com, *.pypi.org or db.example.com:5432.");
            }
            for (var i = 0; i < allow.Count; i++)
            {
                rules.Add(EgressRule.Parse(allow[i], out var problem) ?? throw new EgressPolicyException($"network.allow[{i}]", problem!));
            }
        }
        return new EgressPolicy(parsed.Value, rules.Distinct().ToList(), byteCap);
    }

    /// <summary>The wire name of the mode.</summary>
    public string ModeName => Mode == EgressMode.Open ? OpenName : AllowlistName;

    /// <summary>The rule that lets <paramref name="host"/>:<paramref name="port"/> through, or null when none does.</summary>
    public string? Permit(string host, int port) =>
        Mode == EgressMode.Open ? OpenName : Rules.FirstOrDefault(r => r.Matches(host, port))?.ToString();
}

/// <summary>A network request that cannot be accepted, with the field at fault.</summary>
public sealed class EgressPolicyException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
