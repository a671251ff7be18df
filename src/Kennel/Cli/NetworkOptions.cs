using System.CommandLine;
using Kennel.Contracts.Sessions;

namespace Kennel.Cli;

/// <summary>The network options a session and a daemon share: <c>--network</c>, <c>--allow</c> and <c>--byte-cap</c>.</summary>
internal sealed class NetworkOptions
{
    public Option<string?> Mode { get; } = new("--network")
    {
        Description = "none (the default: no network), allowlist (only the --allow hosts, through the worker's egress proxy) or open (any public address; admins only).",
    };

    public Option<string[]> Allow { get; } = new("--allow")
    {
        Description = "With --network allowlist: a host (api.github.com), a domain (*.pypi.org) and optional port (db.example.com:5432; 443 by default); repeatable.",
    };

    public Option<long?> ByteCap { get; } = new("--byte-cap") { Description = "Most bytes the network may move, in and out together." };

    public void AddTo(Command command)
    {
        command.Options.Add(Mode);
        command.Options.Add(Allow);
        command.Options.Add(ByteCap);
    }

    /// <summary>The network given, or null when no option was (the server's default: none).</summary>
    public SessionNetwork? From(ParseResult parse)
    {
        var mode = parse.GetValue(Mode);
        var allow = parse.GetValue(Allow) is { Length: > 0 } hosts ? hosts : null;
        var cap = parse.GetValue(ByteCap);
        return mode is null && allow is null && cap is null
            ? null
            : new SessionNetwork { Mode = mode ?? (allow is null ? null : "allowlist"), Allow = allow, ByteCap = cap };
    }
}
