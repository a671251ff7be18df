using System.Globalization;
using Npgsql;

namespace Kennel.ControlPlane.Hosting;

/// <summary>
/// Everything <c>kennel serve</c> is configured by, read from <c>KENNEL_*</c> environment variables. A bad value stops
/// the start with a message naming the variable.
/// </summary>
public sealed record KennelSettings
{
    public string Listen { get; init; } = "127.0.0.1:4000";
    public required string DataDir { get; init; }
    public string? DatabaseUrl { get; init; }
    public string? ExternalUrl { get; init; }

    /// <summary><c>KENNEL_METRICS_LISTEN</c>: where <c>/metrics</c> is served to anyone; null: on the main listener, to installation admins.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>
    /// The <c>OTEL_*</c> variables, for the OpenTelemetry SDK to read as it documents (the OTLP endpoint, protocol and
    /// headers, the service name, the sampler, …). Always from the process environment.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Telemetry { get; init; } = new Dictionary<string, string?>();
    public long MaxBodyBytes { get; init; } = 1024 * 1024;
    public bool EmbeddedWorker { get; init; } = true;
    public Contracts.Workers.WorkerCapacity? EmbeddedWorkerCapacity { get; init; }
    /// <summary>The host uids a root worker runs sandboxes as, one each (<c>KENNEL_SANDBOX_UIDS</c>).</summary>
    public Worker.SandboxUidRange SandboxUids { get; init; } = Worker.SandboxUidRange.Default;

    /// <summary>Where a root worker publishes what sandboxes mount read-only, and its uid locks (<c>KENNEL_SANDBOX_SHARED_DIR</c>); null for the default.</summary>
    public string? SandboxSharedDirectory { get; init; }

    /// <summary>The most MiB of snapshot images a worker keeps (<c>KENNEL_SNAPSHOT_CACHE_MB</c>, default 20 GiB).</summary>
    public int SnapshotCacheMb { get; init; } = (int)(Worker.SnapshotCache.DefaultMaxBytes >> 20);

    /// <summary>How a worker's sandboxes with network reach out (<c>KENNEL_EGRESS_RESOLVER</c>, <c>KENNEL_EGRESS_ALLOW_CIDRS</c>).</summary>
    public Kennel.Sandbox.Network.EgressOptions SandboxEgress { get; init; } = new();

    /// <summary>Workspaces whose sessions may have network mode open, beside installation admins' (<c>KENNEL_OPEN_NETWORK_WORKSPACES</c>).</summary>
    public IReadOnlySet<string> OpenNetworkWorkspaces { get; init; } = new HashSet<string>(StringComparer.Ordinal);
    public ControlPlaneOptions ControlPlane { get; init; } = new();
    public Kennel.Mcp.McpHttpOptions Mcp { get; init; } = new();
    public Kennel.ControlPlane.Daemons.DaemonOptions Daemons { get; init; } = new();
    public Scheduling.SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Every workspace's default limits (<c>KENNEL_WORKSPACE_MAX_*</c>).</summary>
    public Kennel.ControlPlane.Quotas.QuotaOptions Quotas { get; init; } = new();

    /// <summary>The model providers every workspace may use (<c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>ANTHROPIC_*</c>).</summary>
    public IReadOnlyList<Kennel.Agents.Providers.ProviderSettings> Providers { get; init; } = [];

    /// <summary>The bounds of an agent's turn (<c>KENNEL_AGENT_TURN_TIMEOUT_SECONDS</c>, <c>KENNEL_AGENT_MAX_TOOL_STEPS</c>, <c>KENNEL_AGENT_MAX_TOOL_RESULT_CHARS</c>).</summary>
    public Kennel.Agents.Runtime.TurnLimits TurnLimits { get; init; } = new();

    /// <summary>Where outbound webhooks may connect beside public addresses (<c>KENNEL_OUTBOUND_ALLOW_CIDRS</c>).</summary>
    public Http.OutboundAddresses Outbound { get; init; } = Http.OutboundAddresses.PublicOnly;

    /// <summary>Skill registry fetches: the folders a local registry may read (<c>KENNEL_SKILL_REGISTRY_ROOTS</c>) and the timeout.</summary>
    public Skills.Registry.SkillRegistryOptions SkillRegistries { get; init; } = new();

    /// <summary>The kennel builds add-server uploads (<c>KENNEL_WORKER_BINARY_X86_64</c>, <c>KENNEL_WORKER_BINARY_AARCH64</c>).</summary>
    public Servers.ServerOptions Servers { get; init; } = Kennel.ControlPlane.Servers.ServerOptions.FromEnvironment(_ => null, null);

    /// <summary>The messaging platforms' API base URLs (<c>KENNEL_SLACK_API_URL</c>, <c>KENNEL_TELEGRAM_API_URL</c>).</summary>
    public Channels.ChannelOptions Channels { get; init; } = new();

    /// <summary>The one clock. Tests of schedules set a fake one.</summary>
    /// <summary>Snapshot images and builds (<c>KENNEL_SNAPSHOT_DIR</c>, default <c>$KENNEL_DATA_DIR/snapshots</c>; empty means that default).</summary>
    public Snapshots.Build.SnapshotOptions Snapshots { get; init; } = new() { Directory = "" };

    public TimeProvider Time { get; init; } = TimeProvider.System;
    public OAuth.OAuthOptions OAuth { get; init; } = new();

    private const int MaxReplayWindowHours = 24 * 365;

    public static string DefaultDataDir() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kennel");

    /// <summary><c>KENNEL_DATA_DIR</c>, or <c>~/.kennel</c>: where the CLI and a worker look for their files too.</summary>
    public static string DataDirFromEnvironment() => NonEmpty(Environment.GetEnvironmentVariable("KENNEL_DATA_DIR")) ?? DefaultDataDir();

    public static KennelSettings FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var defaults = new ControlPlaneOptions();
        var vcpus = Int(read, "KENNEL_WORKER_VCPUS", 0);
        var memory = Int(read, "KENNEL_WORKER_MEMORY_MB", 0);
        var slots = Int(read, "KENNEL_WORKER_SLOTS", 0);
        Contracts.Workers.WorkerCapacity? capacity = null;
        if (vcpus > 0 || memory > 0 || slots > 0)
        {
            var fallback = Worker.WorkerAgentOptions.DefaultCapacity();
            capacity = new(vcpus > 0 ? vcpus : fallback.Vcpus, memory > 0 ? memory : fallback.MemoryMb, slots > 0 ? slots : fallback.Slots);
        }
        return new KennelSettings
        {
            Listen = ValidListen(NonEmpty(read("KENNEL_LISTEN")) ?? "127.0.0.1:4000"),
            MetricsListen = NonEmpty(read("KENNEL_METRICS_LISTEN")) is { } metrics ? ValidListen(metrics, "KENNEL_METRICS_LISTEN") : null,
            Telemetry = OtelVariables(),
            DataDir = NonEmpty(read("KENNEL_DATA_DIR")) ?? DefaultDataDir(),
            DatabaseUrl = NonEmpty(read("KENNEL_DATABASE_URL")),
            ExternalUrl = ValidExternalUrl(NonEmpty(read("KENNEL_EXTERNAL_URL"))),
            MaxBodyBytes = Int(read, "KENNEL_MAX_BODY_BYTES", 1024 * 1024),
            EmbeddedWorker = Bool(read, "KENNEL_EMBEDDED_WORKER", true),
            EmbeddedWorkerCapacity = capacity,
            SandboxUids = SandboxUidRange(read),
            SnapshotCacheMb = Positive(read, "KENNEL_SNAPSHOT_CACHE_MB", (int)(Worker.SnapshotCache.DefaultMaxBytes >> 20)),
            Providers = InstallationProviders(read),
            TurnLimits = new Kennel.Agents.Runtime.TurnLimits
            {
                Timeout = TimeSpan.FromSeconds(Positive(read, "KENNEL_AGENT_TURN_TIMEOUT_SECONDS", 600)),
                MaxToolSteps = Positive(read, "KENNEL_AGENT_MAX_TOOL_STEPS", 16),
                MaxToolResultChars = Positive(read, "KENNEL_AGENT_MAX_TOOL_RESULT_CHARS", 16_000),
            },
            SandboxSharedDirectory = NonEmpty(read("KENNEL_SANDBOX_SHARED_DIR")) is { } shared
                ? Path.IsPathRooted(shared) ? shared : throw new SettingsException($"KENNEL_SANDBOX_SHARED_DIR must be an absolute path, not '{shared}'.")
                : null,
            Mcp = new Kennel.Mcp.McpHttpOptions
            {
                IdleTimeout = TimeSpan.FromSeconds(Positive(read, "KENNEL_MCP_IDLE_TIMEOUT_SECONDS", 1800)),
                AllowedOrigins = [.. (NonEmpty(read("KENNEL_MCP_ALLOWED_ORIGINS")) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                RateLimitPerMinute = Int(read, "KENNEL_MCP_RATE_LIMIT", 60),
            },
            Daemons = new Kennel.ControlPlane.Daemons.DaemonOptions
            {
                WebhookMaxBytes = Positive(read, "KENNEL_WEBHOOK_MAX_BYTES", Kennel.ControlPlane.Daemons.DaemonOptions.DefaultWebhookMaxBytes),
                WebhookReplayWindow = TimeSpan.FromHours(
                    Int(read, "KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS", Kennel.ControlPlane.Daemons.DaemonOptions.DefaultWebhookReplayWindowHours) is <= MaxReplayWindowHours and var hours
                        ? hours
                        : throw new SettingsException($"KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS must be 0 (off) to {MaxReplayWindowHours} (a year), not '{read("KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS")}'.")),
            },
            Quotas = new Kennel.ControlPlane.Quotas.QuotaOptions
            {
                Defaults = new Contracts.Quotas.WorkspaceLimits(
                    Kennel.ControlPlane.Quotas.QuotaOptions.Limit(Int(read, "KENNEL_WORKSPACE_MAX_RUNNING_SESSIONS", 0)),
                    Kennel.ControlPlane.Quotas.QuotaOptions.Limit(Int(read, "KENNEL_WORKSPACE_MAX_VCPUS", 0)),
                    Kennel.ControlPlane.Quotas.QuotaOptions.Limit(Int(read, "KENNEL_WORKSPACE_MAX_QUEUED_SESSIONS", Kennel.ControlPlane.Quotas.QuotaOptions.DefaultMaxQueuedSessions))),
            },
            OAuth = new OAuth.OAuthOptions
            {
                RegistrationsPerMinute = Int(read, "KENNEL_OAUTH_REGISTRATION_RATE_LIMIT", 20),
                LoginsPerMinute = Int(read, "KENNEL_OAUTH_LOGIN_RATE_LIMIT", 30),
                CimdAllowPrivateAddresses = Bool(read, "KENNEL_OAUTH_CIMD_ALLOW_PRIVATE", false),
                KeyEncryptionKey = NonEmpty(read(KeyEncryption.Variable)) is { } kek
                    ? KeyEncryption.Parse(kek) ?? throw new SettingsException(
                        $"{KeyEncryption.Variable} must be {KeyEncryption.KeyBytes} random bytes in base64 (e.g. from 'openssl rand -base64 32').")
                    : null,
            },
            Servers = Kennel.ControlPlane.Servers.ServerOptions.FromEnvironment(read, null),
            Outbound = Http.OutboundAddresses.Parse(read(Http.OutboundAddresses.AllowVariable), out var outboundError)
                ?? throw new SettingsException(outboundError!),
            SkillRegistries = Skills.Registry.SkillRegistryOptions.FromEnvironment(read),
            Snapshots = new Kennel.ControlPlane.Snapshots.Build.SnapshotOptions
            {
                Directory = NonEmpty(read("KENNEL_SNAPSHOT_DIR")) is { } snapshots
                    ? Path.IsPathRooted(snapshots) ? snapshots : throw new SettingsException($"KENNEL_SNAPSHOT_DIR must be an absolute path, not '{snapshots}'.")
                    : "",
                BuildDirectory = NonEmpty(read("KENNEL_SNAPSHOT_BUILD_DIR")) is { } builds
                    ? Path.IsPathRooted(builds) ? builds : throw new SettingsException($"KENNEL_SNAPSHOT_BUILD_DIR must be an absolute path, not '{builds}'.")
                    : null,
                BuildUid = Positive(read, "KENNEL_SNAPSHOT_BUILD_UID", Kennel.ControlPlane.Snapshots.Build.SnapshotOptions.DefaultBuildUid),
            },
            SandboxEgress = Kennel.Sandbox.Network.EgressOptions.FromEnvironment(read, out var egressError) ?? throw new SettingsException(egressError!),
            OpenNetworkWorkspaces = new HashSet<string>(
                (NonEmpty(read(Sessions.NetworkAccess.OpenWorkspacesVariable)) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                StringComparer.Ordinal),
            Channels = Kennel.ControlPlane.Channels.ChannelOptions.FromEnvironment(read),
            ControlPlane = defaults with
            {
                LeaseTtl = TimeSpan.FromSeconds(Int(read, "KENNEL_LEASE_TTL_SECONDS", (int)defaults.LeaseTtl.TotalSeconds)),
                OutputLimitBytes = Int(read, "KENNEL_OUTPUT_LIMIT_BYTES", defaults.OutputLimitBytes),
                MaxConcurrentRuns = Positive(read, "KENNEL_AGENT_MAX_CONCURRENT_RUNS", defaults.MaxConcurrentRuns),
            },
        };
    }

    /// <summary>The listen address as a URL Kestrel accepts: <c>host:port</c>, or a full <c>http://</c> URL.</summary>
    public string ListenUrl => UrlOf(Listen);

    public static string UrlOf(string listen) => listen.Contains("://", StringComparison.Ordinal) ? listen : $"http://{listen}";

    private static Dictionary<string, string?> OtelVariables()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && name.StartsWith("OTEL_", StringComparison.Ordinal) && variable.Value is string { Length: > 0 } value)
            {
                variables[name] = value;
            }
        }
        return variables;
    }

    /// <summary>
    /// Accepts both forms people paste: <c>postgres://user:pass@host:port/db</c> and Npgsql's <c>Host=…;Database=…</c>.
    /// </summary>
    public static string ToNpgsqlConnectionString(string databaseUrl)
    {
        if (!databaseUrl.StartsWith("postgres://", StringComparison.Ordinal) && !databaseUrl.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return new NpgsqlConnectionStringBuilder(databaseUrl).ConnectionString;
        }
        var uri = new Uri(databaseUrl);
        var userInfo = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }
        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// <c>host:port</c> or <c>http://host:port</c>, with an explicit port: a typo must never fall back to port 80 on
    /// every interface.
    /// </summary>
    private static string ValidListen(string value, string variable = "KENNEL_LISTEN")
    {
        var url = value.Contains("://", StringComparison.Ordinal) ? value : $"http://{value}";
        var explicitPort = url.LastIndexOf(':') > url.IndexOf("://", StringComparison.Ordinal) + 2;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme != "http" || !explicitPort
            || parsed.AbsolutePath != "/" || parsed.Host.Length == 0)
        {
            throw new SettingsException($"{variable} must be host:port (e.g. 127.0.0.1:4000 or 0.0.0.0:4000), not '{value}'.");
        }
        return value;
    }

    /// <summary>The OAuth issuer: an origin (no path), https unless the host is loopback.</summary>
    private static string? ValidExternalUrl(string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/"
            || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            throw new SettingsException($"KENNEL_EXTERNAL_URL must be the public origin, like https://kennel.example.com, not '{value}'.");
        }
        if (url.Scheme == "http" && !Kennel.ControlPlane.OAuth.RedirectUriRules.IsLoopback(url))
        {
            throw new SettingsException($"KENNEL_EXTERNAL_URL must be https (http is allowed on loopback only), not '{value}'.");
        }
        return url.GetLeftPart(UriPartial.Authority);
    }

    private static Worker.SandboxUidRange SandboxUidRange(Func<string, string?> read)
    {
        // The single shared uid of earlier versions let one session use up per-uid kernel limits for all, so a setting
        // of it is refused rather than quietly ignored.
        if (NonEmpty(read("KENNEL_SANDBOX_UID")) is { } old)
        {
            throw new SettingsException($"KENNEL_SANDBOX_UID (set to '{old}') was replaced by KENNEL_SANDBOX_UIDS, a range of host uids such as "
                + $"{Worker.SandboxUidRange.Default}: each running sandbox now takes a uid of its own. Unset KENNEL_SANDBOX_UID.");
        }
        var value = NonEmpty(read("KENNEL_SANDBOX_UIDS"));
        if (value is null)
        {
            return Worker.SandboxUidRange.Default;
        }
        return Worker.SandboxUidRange.TryParse(value, out var range)
            ? range
            : throw new SettingsException($"KENNEL_SANDBOX_UIDS must be a range of host uids FIRST-LAST, from 1 to {int.MaxValue - 1}, "
                + $"such as {Worker.SandboxUidRange.Default}, not '{value}'.");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static IReadOnlyList<Kennel.Agents.Providers.ProviderSettings> InstallationProviders(Func<string, string?> read)
    {
        try
        {
            return Kennel.Agents.Providers.InstallationProviders.FromEnvironment(read);
        }
        catch (ArgumentException bad)
        {
            throw new SettingsException(bad.Message);
        }
    }

    private static int Int(Func<string, string?> read, string name, int fallback)
    {
        var value = NonEmpty(read(name));
        if (value is null)
        {
            return fallback;
        }
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed >= 0
            ? parsed
            : throw new SettingsException($"{name} must be a non-negative integer, not '{value}'.");
    }

    private static int Positive(Func<string, string?> read, string name, int fallback) =>
        Int(read, name, fallback) is > 0 and var value ? value : throw new SettingsException($"{name} must be a positive integer, not '{read(name)}'.");

    private static bool Bool(Func<string, string?> read, string name, bool fallback) => NonEmpty(read(name))?.ToLowerInvariant() switch
    {
        null => fallback,
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        var other => throw new SettingsException($"{name} must be true or false, not '{other}'."),
    };
}

/// <summary>A configuration mistake: printed as is, without a stack trace, and the process exits non-zero.</summary>
public sealed class SettingsException(string message) : Exception(message);
