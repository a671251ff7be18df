using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Snapshots;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Fleet;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;
using Kennel.ControlPlane.Workers;
using Kennel.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// The tools of <c>/mcp</c>, with seed 000's names. Each is one method over a service call that REST and the CLI use
/// too: the attributes describe it (name, hints, scope) and the service does the work. The caller's workspace comes
/// from the credential, never from an argument.
/// </summary>
public static class FleetTools
{
    [McpServerTool(Name = "list-sessions", Title = "List sessions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(SessionPage))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists this workspace's sandbox sessions, newest first, with their status, exit code and output. Use it to find a " +
        "session you started earlier or to see what is running. Returns {items, nextCursor}; pass nextCursor back as cursor for the next page. " +
        "A page that would exceed about 25,000 tokens holds fewer sessions, and its nextCursor fetches the rest.")]
    public static async Task<CallToolResult> ListSessions(
        SessionService sessions,
        ClaimsPrincipal user,
        [Description("Only sessions in these states, comma-separated: pending, running, succeeded, failed, timed_out, cancelled. Omit for all.")]
        string? status = null,
        [Description("Sessions per page."), Range(1, SessionLimits.MaxListLimit)] int limit = 20,
        [Description("The nextCursor of the previous page; omit for the first page.")] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var page = await sessions.ListAsync(Caller.From(user), status, limit, cursor, cancellationToken);
        return ResponseBudget.Page(page);
    }

    /// <summary>The network parameter of create-session and create-daemon.</summary>
    internal const string NetworkDescription =
        "Network: {mode: \"none\"} (the default: no network at all), {mode: \"allowlist\", allow: [\"api.github.com\", \"*.pypi.org\", " +
        "\"db.example.com:5432\"]} (only those hosts, port 443 unless given, through the worker's egress proxy; HTTPS_PROXY is set in the sandbox) " +
        "or {mode: \"open\"} (any public address; installation admins only). byteCap caps the bytes moved. Private, loopback and metadata " +
        "addresses are never reached; refused destinations are listed on the ended session (egress.refusedDestinations).";

    [McpServerTool(Name = "create-session", Title = "Create a sandbox session", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Session))]
    [RequiresScope(Scopes.Write)]
    [Description("Runs a workload in a fresh, isolated sandbox (no network) and returns at once with the session in status pending. " +
        "Give exactly one of script (run by /bin/sh -c) or command (an argv array). Then call wait-for-session with the returned id " +
        "to get the exit code, stdout and stderr.")]
    public static async Task<CallToolResult> CreateSession(
        SessionService sessions,
        ClaimsPrincipal user,
        [Description("A shell script, run by /bin/sh -c. Give this or command, not both.")] string? script = null,
        [Description("The program and its arguments, run without a shell, e.g. [\"python3\", \"-c\", \"print(1)\"]. Give this or script, not both.")]
        string[]? command = null,
        [Description("The environment image to boot; list-snapshots shows the choices.")] string snapshot = SnapshotCatalog.TestMinimal,
        [Description("Environment variables for the workload: names of letters, digits and '_'. Anyone who can read the session sees them; " +
            "pass credentials as secrets instead.")] Dictionary<string, string>? env = null,
        [Description("Names of this workspace's secrets (set with kennel secret set or PUT /v1/secrets/{name}) that the workload sees as " +
            "environment variables of the same name. Their values are never shown; a name that is not set is refused.")] string[]? secrets = null,
        [Description("Wall-clock limit in milliseconds; the session ends as timed_out past it."), Range(SessionLimits.MinTimeoutMs, SessionLimits.MaxTimeoutMs)]
        long timeoutMs = SessionLimits.DefaultTimeoutMs,
        [Description("vcpus (1-64, default 1) and memoryMb (16-262144, default 512) for the sandbox.")] SessionResources? resources = null,
        [Description(NetworkDescription)] SessionNetwork? network = null,
        [Description("Your own labels for the session, up to 64 string pairs, returned with it.")] Dictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var request = new CreateSessionRequest
        {
            Snapshot = snapshot,
            Script = script,
            Command = command,
            Env = env,
            Secrets = secrets,
            TimeoutMs = timeoutMs,
            Resources = resources,
            Network = network,
            Metadata = metadata,
        };
        var session = await sessions.CreateAsync(Caller.From(user), request, cancellationToken);
        return ToolResults.Of(session, KennelJson.Default.Session, ToolText.Session(session));
    }

    [McpServerTool(Name = "get-session", Title = "Get a session", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Session))]
    [RequiresScope(Scopes.Read)]
    [Description("Returns one session as it stands now: status, exit code, stdout and stderr so far, timings and any error. " +
        "It does not wait; use wait-for-session to wait for the end. Output longer than maxOutputChars is cut: nextStdoutOffset " +
        "(or nextStderrOffset) tells where, and calling again with stdoutOffset (or stderrOffset) set to it reads the next range.")]
    public static async Task<CallToolResult> GetSession(
        SessionService sessions,
        ClaimsPrincipal user,
        [Description("The session id (ses_…), as create-session or list-sessions returned it.")] string id,
        [Description(StdoutOffsetDescription), Range(0, int.MaxValue)] long stdoutOffset = 0,
        [Description(StderrOffsetDescription), Range(0, int.MaxValue)] long stderrOffset = 0,
        [Description(MaxOutputCharsDescription), Range(1, ResponseBudget.MaxOutputChars)] long maxOutputChars = ResponseBudget.MaxOutputChars,
        CancellationToken cancellationToken = default)
    {
        var session = await sessions.GetAsync(Caller.From(user), RequiredId(id), cancellationToken);
        return ResponseBudget.Session(session, stdoutOffset, stderrOffset, maxOutputChars);
    }

    [McpServerTool(Name = "cancel-session", Title = "Cancel a session", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Session))]
    [RequiresScope(Scopes.Write)]
    [Description("Stops a pending or running session: a queued one is cancelled at once, a running one is killed by its worker " +
        "within a second or two. Returns the session; wait-for-session shows its final state. Fails with session_finished if it had already ended.")]
    public static async Task<CallToolResult> CancelSession(
        SessionService sessions,
        ClaimsPrincipal user,
        [Description("The session id (ses_…) to cancel.")] string id,
        CancellationToken cancellationToken = default)
    {
        var session = await sessions.CancelAsync(Caller.From(user), RequiredId(id), cancellationToken);
        return ToolResults.Of(session, KennelJson.Default.Session, ToolText.Session(session));
    }

    [McpServerTool(Name = "wait-for-session", Title = "Wait for a session to finish", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Session))]
    [RequiresScope(Scopes.Read)]
    [Description("Waits until a session ends (succeeded, failed, timed_out or cancelled) and returns it with its exit code, stdout and stderr. " +
        "Sends progress notifications as its status changes and output arrives. If timeoutMs passes first, returns the session as it " +
        "stands (still pending or running): call again to keep waiting. Long output is cut as by get-session, which reads the rest.")]
    public static async Task<CallToolResult> WaitForSession(
        SessionService sessions,
        ClaimsPrincipal user,
        IProgress<ProgressNotificationValue> progress,
        [Description("The session id (ses_…) to wait for.")] string id,
        [Description("Longest wait in milliseconds."), Range(0, SessionLimits.MaxWaitMs)] long timeoutMs = SessionLimits.DefaultWaitMs,
        [Description(StdoutOffsetDescription), Range(0, int.MaxValue)] long stdoutOffset = 0,
        [Description(StderrOffsetDescription), Range(0, int.MaxValue)] long stderrOffset = 0,
        [Description(MaxOutputCharsDescription), Range(1, ResponseBudget.MaxOutputChars)] long maxOutputChars = ResponseBudget.MaxOutputChars,
        CancellationToken cancellationToken = default)
    {
        if (timeoutMs is < 0 or > SessionLimits.MaxWaitMs)
        {
            throw ApiProblem.Invalid("timeoutMs", $"timeoutMs must be between 0 and {SessionLimits.MaxWaitMs}.");
        }
        ResponseBudget.Validate(stdoutOffset, stderrOffset, maxOutputChars);
        var caller = Caller.From(user);
        id = RequiredId(id);
        var started = TimeProvider.System.GetTimestamp();
        var session = await sessions.GetAsync(caller, id, cancellationToken);
        Report(progress, session, 0, timeoutMs);
        // Short slices of the service's own wait: each returns at the end or after a second, so a change of status or new
        // output is reported within about a second without holding more than one store read in flight.
        while (!session.Status.IsTerminal())
        {
            var remaining = timeoutMs - (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
            if (remaining <= 0)
            {
                break;
            }
            var next = await sessions.WaitAsync(caller, id, Math.Min(remaining, ProgressInterval), cancellationToken);
            if (next.Status != session.Status || next.Stdout.Length != session.Stdout.Length || next.Stderr.Length != session.Stderr.Length)
            {
                Report(progress, next, (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, timeoutMs);
            }
            session = next;
        }
        return ResponseBudget.Session(session, stdoutOffset, stderrOffset, maxOutputChars);
    }

    [McpServerTool(Name = "list-snapshots", Title = "List snapshots", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(SnapshotList))]
    [RequiresScope(Scopes.Read)]
    [Description("Lists the environment images (snapshots) a session can boot: the built-in test-minimal, then this workspace's builds, newest " +
        "first. create-session takes name (its latest tag), name:tag or name@sha256:digest as snapshot. Returns {snapshots: [{name, default, id, tags, " +
        "digest, size, status (building, ready or failed), createdAt, base, workers (how many hold it), error}]}.")]
    public static async Task<CallToolResult> ListSnapshots(SnapshotService snapshots, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var views = await snapshots.ListAsync(Caller.From(user), cancellationToken);
        var list = new SnapshotList([.. views.Items.Select(v => new SnapshotInfo(v.Name, v.BuiltIn && v.Name == SnapshotCatalog.TestMinimal)
        {
            Id = v.Id,
            Tags = v.Tags,
            Digest = v.Digest,
            Size = v.Size,
            Status = v.Status,
            CreatedAt = v.BuiltIn ? null : v.CreatedAt,
            Base = v.Base,
            Workers = v.Workers,
            Error = v.Error is { } error ? $"{error.Code}: {error.Message}" : null,
        })]);
        return ToolResults.Of(list, FleetMcpJson.Default.SnapshotList, ToolText.Snapshots(list));
    }

    [McpServerTool(Name = "build-snapshot", Title = "Build a snapshot", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = true,
        UseStructuredContent = true, OutputSchemaType = typeof(SnapshotInfo))]
    [RequiresScope(Scopes.Write)]
    [Description("Starts building a snapshot from a recipe (YAML or JSON: base {debootstrap: {suite, variant}} or {snapshot: name}, packages, files, " +
        "run, env, workdir; see docs/snapshots.md) and returns its id at once, with status building. Poll list-snapshots until it is ready " +
        "(or failed, with its error); then create-session takes name:tag as snapshot.")]
    public static async Task<CallToolResult> BuildSnapshot(
        SnapshotService snapshots,
        ClaimsPrincipal user,
        [Description("The name to file the snapshot under, e.g. python: lower-case letters, digits, '.', '_' and '-'.")] string name,
        [Description("The recipe, as YAML or JSON text.")] string recipe,
        [Description("The tags to point at the snapshot once it is ready; default [\"latest\"].")] string[]? tags = null,
        CancellationToken cancellationToken = default)
    {
        var view = await snapshots.BuildAsync(Caller.From(user), new BuildSnapshotRequest { Name = name, Recipe = recipe, Tags = tags }, cancellationToken);
        var info = new SnapshotInfo(view.Name, false) { Id = view.Id, Tags = view.Tags, Status = view.Status, CreatedAt = view.CreatedAt, Base = view.Base };
        return ToolResults.Of(info, FleetMcpJson.Default.SnapshotInfo, $"Building {view.Id} ({view.Name}, base {view.Base}); list-snapshots shows when it is ready.");
    }

    [McpServerTool(Name = "fleet-overview", Title = "Fleet overview", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(FleetOverview))]
    [RequiresScope(Scopes.Read)]
    [Description("Summarizes the worker fleet as this credential may see it: how many workers there are and how many are healthy; this " +
        "workspace's running sessions (activeSessions) and queued ones (queueDepth); and the vCPUs, memory (MiB) and session slots open to it " +
        "(the healthy workers' capacity within its limits), in use by it, and free. Installation admins (scope 'fleet') see every workspace's " +
        "figures instead, with a per-workspace breakdown. Use it to judge whether a new session will start soon.")]
    public static async Task<CallToolResult> FleetOverview(FleetService fleet, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var overview = await fleet.OverviewAsync(Caller.From(user), cancellationToken);
        return ToolResults.Of(overview, FleetMcpJson.Default.FleetOverview, ToolText.Overview(overview));
    }

    [McpServerTool(Name = "list-workers", Title = "List workers", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(WorkerList))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Lists every worker machine with its health (healthy, or lost when it stopped polling), its capacity (vcpus, memoryMb, slots), " +
        "what running sessions use of it, its labels and when it was last seen. For installation admins: an admin key of the 'default' workspace.")]
    public static async Task<CallToolResult> ListWorkers(WorkerRegistry workers, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var list = new WorkerList(await workers.ListAsync(Caller.From(user), cancellationToken));
        return ToolResults.Of(list, FleetMcpJson.Default.WorkerList, ToolText.Workers(list));
    }

    private const long ProgressInterval = 1_000;

    private const string StdoutOffsetDescription = "The character of stdout to start from, for reading long output in ranges: the nextStdoutOffset of the previous call.";
    private const string StderrOffsetDescription = "The character of stderr to start from, for reading long output in ranges: the nextStderrOffset of the previous call.";
    private const string MaxOutputCharsDescription = "The most characters of stdout and stderr together to return; the default keeps the result under about 25,000 tokens.";

    // The binder lets an explicit JSON null through to a non-nullable string; that is a missing argument, not an unknown id.
    private static string RequiredId(string? id) =>
        string.IsNullOrWhiteSpace(id) ? throw ApiProblem.Invalid("id", "id is required: the session id (ses_…) that create-session or list-sessions returned.") : id;

    private static void Report(IProgress<ProgressNotificationValue> progress, Session session, long elapsedMs, long timeoutMs) =>
        progress.Report(new ProgressNotificationValue { Progress = elapsedMs, Total = timeoutMs, Message = ToolText.Progress(session) });
}

public sealed record SnapshotInfo(string Name, bool Default)
{
    public string? Id { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? Digest { get; init; }
    public long? Size { get; init; }
    public string? Status { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? Base { get; init; }
    public int Workers { get; init; }
    public string? Error { get; init; }
}

public sealed record SnapshotList(IReadOnlyList<SnapshotInfo> Snapshots);

public sealed record WorkerList(IReadOnlyList<Contracts.Workers.Worker> Workers);

/// <summary>
/// A tool about the whole installation (the shared worker fleet): only credentials of the <c>default</c> workspace see
/// it in <c>tools/list</c> or may call it, whatever their scopes; the others get <c>workspace_forbidden</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class InstallationOnlyAttribute : Attribute;
