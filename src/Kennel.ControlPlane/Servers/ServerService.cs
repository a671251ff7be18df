using System.Text.Json;
using System.Text.RegularExpressions;
using Kennel.Contracts;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Workers;
using Kennel.Store;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Servers: machines reached over SSH. <see cref="TestConnectionAsync"/> logs in for real (SSH.NET), checks the host key,
/// and probes the machine; <see cref="AddAsync"/> records a server and starts its bootstrap (<see cref="ServerBootstrap"/>)
/// in the background. MCP, REST and the CLI all call here.
/// </summary>
public sealed partial class ServerService(ServerStore store, ServerLogin login, ServerRunner runner, WorkerRegistry workers, WorkerStore workerStore,
    KeyEncryption encryption, Ec2.Ec2CredentialStore ec2Credentials, Sessions.ChangeSignal signal, ServerOptions options, TimeProvider time,
    ILogger<ServerService> logger)
{
    public const string ServerExists = "server_exists";
    public const string ServerBusy = "server_busy";

    /// <summary>The error of a session cancelled because the server running it was deleted.</summary>
    public const string ServerDeleted = "server_deleted";
    public const int DefaultGraceSeconds = 300;
    public const int MaxGraceSeconds = 600;
    public async Task<ConnectionTest> TestConnectionAsync(Caller caller, TestConnectionRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        using var target = SshTarget.Parse(request);
        var started = time.GetTimestamp();
        HostKey? hostKey = null;
        ServerSystem? system = null;
        ConnectionError? error;
        try
        {
            using var session = await login.OpenAsync(target, cancellationToken);
            hostKey = session.HostKey;
            system = await ServerLogin.ProbeAsync(session, cancellationToken);
            error = ServerProbe.Problem(system);
        }
        catch (ServerConnectionException failed)
        {
            hostKey = failed.HostKey ?? hostKey;
            error = new ConnectionError(failed.Code, failed.Message);
        }
        LogTested(target.Address, target.Port, target.Username, error?.Code ?? "ok");
        return new ConnectionTest
        {
            Ok = error is null,
            Address = target.Address,
            Port = target.Port,
            Username = target.Username,
            HostKey = hostKey,
            System = system,
            Error = error,
            ElapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    /// <summary>
    /// Records the server as <c>provisioning</c> and starts its bootstrap; answers at once. The credential stays in this
    /// process's memory for the bootstrap, and in the store (encrypted) only when <c>keepCredential</c> is true.
    /// </summary>
    public async Task<Server> AddAsync(Caller caller, AddServerRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var controlPlane = ControlPlaneUrl(request.ControlPlaneUrl ?? options.ExternalUrl);
        var target = SshTarget.Parse(request);
        try
        {
            var name = ValidName(request.Name ?? target.Address.Replace(':', '-'));
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var id = SortableId.New("srv", time);
            var row = new ServerRow
            {
                Id = id,
                Name = name,
                Address = target.Address,
                Port = target.Port,
                Username = target.Username,
                AuthMethod = target.AuthMethod == "password" ? "password" : "private_key",
                Credential = request.KeepCredential == true
                    ? encryption.Encrypt(CredentialOwner(id), JsonSerializer.SerializeToUtf8Bytes(target.Credential, ServerJson.Default.StoredCredential))
                    : null,
                Status = ServerStatuses.Provisioning,
                CreatedAt = now,
                UpdatedAt = now,
            };
            if (!await store.InsertAsync(row, $"Accepted: {name} at {target.Address} port {target.Port}; the bootstrap starts now.", cancellationToken))
            {
                throw ApiProblem.Conflict(ServerExists, $"A server named '{name}', or at {target.Address} port {target.Port}, exists already: delete it first.");
            }
            LogAdded(id, target.Address, target.Port);
            // The answer is the server as accepted (provisioning), read before the bootstrap can move it on.
            var accepted = await GetAsync(caller, id, cancellationToken);
            runner.Start(id, target, name, controlPlane);
            return accepted;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Records the server as <c>provisioning</c> and starts its launch in EC2 (<see cref="Ec2.Ec2Launch"/>), then the same
    /// bootstrap as <see cref="AddAsync"/>; answers at once. The AWS credentials are read from the caller's workspace
    /// secrets now (a missing one is refused here), and kept in this process's memory for the launch only.
    /// </summary>
    public async Task<Server> AddEc2Async(Caller caller, AddServerEc2Request request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var controlPlane = ControlPlaneUrl(request.ControlPlaneUrl ?? options.ExternalUrl);
        var target = Ec2.Ec2Target.Parse(request, controlPlane);
        var id = SortableId.New("srv", time);
        var name = ValidName(request.Name ?? $"ec2-{id[^8..].ToLowerInvariant()}");
        var credentials = await ec2Credentials.ResolveAsync(caller.WorkspaceId, target.AccessKeyIdSecret, target.SecretAccessKeySecret, cancellationToken) switch
        {
            { Credentials: { } found } => found,
            { Missing: var missing } => throw ApiProblem.Invalid(missing == target.AccessKeyIdSecret ? "accessKeyIdSecret" : "secretAccessKeySecret",
                $"This workspace has no readable secret named '{missing}': set it with 'kennel secret set {missing}' (the AWS credentials of add-server-ec2)."),
        };
        var stored = new Ec2.StoredCloud(new ServerCloud("ec2", target.Region, null, null, null, target.Ami), caller.WorkspaceId,
            target.AccessKeyIdSecret, target.SecretAccessKeySecret);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new ServerRow
        {
            Id = id,
            Name = name,
            // No address until EC2 gives the instance one; the id keeps the (address, port) pair unique meanwhile.
            Address = id,
            Port = SshTarget.DefaultPort,
            Username = target.Username,
            AuthMethod = "private_key",
            Status = ServerStatuses.Provisioning,
            Cloud = stored.ToJson(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.InsertAsync(row, $"Accepted: {name}, a {target.InstanceType} instance in {target.Region}; the launch starts now.", cancellationToken))
        {
            throw ApiProblem.Conflict(ServerExists, $"A server named '{name}' exists already: delete it first, or choose another name.");
        }
        LogAddedEc2(id, target.Region, target.InstanceType);
        var accepted = await GetAsync(caller, id, cancellationToken);
        runner.StartEc2(id, name, target, credentials, stored, controlPlane);
        return accepted;
    }

    public async Task<ServerList> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var rows = await store.ListAsync(cancellationToken);
        var steps = (await store.LastStepsAsync(cancellationToken)).ToDictionary(s => s.ServerId, StringComparer.Ordinal);
        var fleet = (await workers.ListAsync(cancellationToken)).ToDictionary(w => w.Id, StringComparer.Ordinal);
        return new ServerList([.. rows.Select(row => View(row, steps.GetValueOrDefault(row.Id), row.WorkerId is { } w ? fleet.GetValueOrDefault(w) : null))]);
    }

    public async Task<Server> GetAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var row = await store.FindAsync(id, cancellationToken) ?? throw ApiProblem.NotFound("server", id);
        var steps = await store.StepsAsync(id, cancellationToken);
        var last = steps.Count > 0 ? steps[^1] : null;
        var worker = row.WorkerId is { } workerId ? (await workers.ListAsync(cancellationToken)).FirstOrDefault(w => w.Id == workerId) : null;
        return View(row, last, worker);
    }

    public async Task<ServerSteps> StepsAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        _ = await store.FindAsync(id, cancellationToken) ?? throw ApiProblem.NotFound("server", id);
        return new ServerSteps([.. (await store.StepsAsync(id, cancellationToken)).Select(Step)]);
    }

    /// <summary>
    /// Removes a server. One that never became a worker goes at once. One that did is drained in the background
    /// (<see cref="ServerRemoval"/>): its worker takes no new sessions from now on, and those it runs have
    /// <paramref name="graceSeconds"/> to finish before they are cancelled (<see cref="ServerDeleted"/>); with
    /// <paramref name="skipDrain"/> they are cancelled at once. The answer is the server as it was, or as it is draining.
    /// </summary>
    public async Task<Server> DeleteAsync(Caller caller, string id, bool skipDrain, int? graceSeconds, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var grace = graceSeconds ?? DefaultGraceSeconds;
        if (grace is < 0 or > MaxGraceSeconds)
        {
            throw ApiProblem.Invalid("graceSeconds", $"graceSeconds must be between 0 and {MaxGraceSeconds}.");
        }
        var server = await GetAsync(caller, id, cancellationToken);
        var row = await store.FindAsync(id, cancellationToken) ?? throw ApiProblem.NotFound("server", id);
        if (row.Cloud is not null && row.WorkerId is null && server.Status is not ServerStatuses.Failed)
        {
            throw ApiProblem.Conflict(ServerBusy, $"Server '{server.Name}' is being launched in EC2 ({server.Status}): delete it once it is ready or failed.");
        }
        if (row.WorkerId is not { } workerId)
        {
            await store.DeleteAsync(id, cancellationToken);
            LogDeleted(id, server.Address, server.Port);
            return server;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (server.Status is ServerStatuses.Draining or ServerStatuses.Deleting)
        {
            if (skipDrain && await workerStore.CancelLiveSessionsAsync(workerId, ServerDeleted,
                "The server running this session was deleted without a drain (delete-server with skipDrain).", now, cancellationToken) > 0)
            {
                signal.PulseQueue();
                await store.StepAsync(id, server.Status, $"Asked again without a drain: the sessions worker {workerId} runs are cancelled now.", now, cancellationToken);
            }
            runner.StartRemoval(id, skipDrain ? TimeSpan.Zero : TimeSpan.FromSeconds(grace));
            return await GetAsync(caller, id, cancellationToken);
        }
        await workerStore.DrainAsync(workerId, now, cancellationToken);
        var live = await workerStore.LiveSessionsAsync(workerId, cancellationToken);
        await store.StepAsync(id, ServerStatuses.Draining, skipDrain
            ? $"Deleting without a drain: worker {workerId} takes no new sessions, and the {live} session(s) it runs are cancelled now."
            : $"Draining: worker {workerId} takes no new sessions; the {live} session(s) it runs have {grace} s to finish, then are cancelled.",
            now, cancellationToken);
        runner.StartRemoval(id, skipDrain ? TimeSpan.Zero : TimeSpan.FromSeconds(grace));
        LogDraining(id, server.Address, server.Port, skipDrain ? 0 : grace);
        return await GetAsync(caller, id, cancellationToken);
    }

    internal static string CredentialOwner(string id) => $"server:{id}";

    private static Uri ControlPlaneUrl(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.UserInfo.Length == 0 &&
        parsed.Query.Length == 0 && parsed.Fragment.Length == 0 && !url.Contains('\'', StringComparison.Ordinal)
            ? parsed
            : throw ApiProblem.Invalid("controlPlaneUrl", url is null
                ? "controlPlaneUrl is required when KENNEL_EXTERNAL_URL is not set: the URL at which the new worker reaches this control plane."
                : "controlPlaneUrl must be an http or https URL without user, query or fragment.");

    private static string ValidName(string name) => NamePattern().IsMatch(name) ? name
        : throw ApiProblem.Invalid("name", "name is 1-100 characters of letters, digits, '.', '_', '-' and '@' (it becomes the worker's name).");

    private static Server View(ServerRow row, ServerStepRow? last, Contracts.Workers.Worker? worker) => new()
    {
        Id = row.Id,
        Name = row.Name,
        Address = row.Address == row.Id ? "" : row.Address,
        Port = row.Port,
        Username = row.Username,
        AuthMethod = row.AuthMethod,
        CredentialKept = row.Credential is not null,
        Status = row.Status,
        LastStep = last is null ? null : Step(last),
        Error = row.ErrorCode is { } code ? new ConnectionError(code, row.ErrorMessage ?? "") : null,
        HostKey = row.HostKey,
        System = row.System is { } system ? JsonSerializer.Deserialize(system, KennelJson.Default.ServerSystem) : null,
        Worker = worker,
        Cloud = Ec2.StoredCloud.FromJson(row.Cloud)?.Cloud,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
    };

    private static ServerStep Step(ServerStepRow row) => new(row.Seq, DateTimeOffset.FromUnixTimeMilliseconds(row.At), row.Status, row.Message);

    // Servers become workers, which run every workspace's sessions, so only the installation's admins may manage them.
    private static void RequireInstallationAdmin(Caller caller)
    {
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may manage servers.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection test to {Address} port {Port} as {Username}: {Outcome}")]
    private partial void LogTested(string address, int port, string username, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} at {Address} port {Port} added; bootstrap started")]
    private partial void LogAdded(string id, string address, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} added in EC2 {Region}, {InstanceType}; launch started")]
    private partial void LogAddedEc2(string id, string region, string instanceType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} at {Address} port {Port} draining, grace {GraceSeconds} s")]
    private partial void LogDraining(string id, string address, int port, int graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} at {Address} port {Port} deleted")]
    private partial void LogDeleted(string id, string address, int port);

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,100}$")]
    private static partial Regex NamePattern();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(StoredCredential))]
internal sealed partial class ServerJson : System.Text.Json.Serialization.JsonSerializerContext
{
}
