using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using WorkerView = Kennel.Contracts.Workers.Worker;

namespace Kennel.ControlPlane.Workers;

/// <summary>
/// Who the workers are: one-time enrollment tokens, per-worker credentials (hashed at rest), and the fleet listing.
/// </summary>
public sealed partial class WorkerRegistry(WorkerStore store, ControlPlaneOptions options, TimeProvider time)
{
    public const string CredentialPrefix = "kw";
    public const string EnrollmentTokenPrefix = "kwt";
    public static readonly TimeSpan DefaultTokenTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxTokenTtl = TimeSpan.FromDays(7);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> knownCredentials = new(StringComparer.Ordinal);

    public async Task<WorkerToken> CreateTokenAsync(Caller caller, long? ttlSeconds, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        var ttl = ttlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultTokenTtl;
        if (ttl <= TimeSpan.Zero || ttl > MaxTokenTtl)
        {
            throw ApiProblem.Invalid("ttlSeconds", $"ttlSeconds must be between 1 and {(long)MaxTokenTtl.TotalSeconds}.");
        }
        var token = OpaqueToken.Create(EnrollmentTokenPrefix);
        var now = time.GetUtcNow();
        await store.InsertTokenAsync(token.Id, token.SecretHash, now.ToUnixTimeMilliseconds(), now.Add(ttl).ToUnixTimeMilliseconds(), cancellationToken);
        return new WorkerToken(token.Value, now.Add(ttl));
    }

    /// <summary>A token for a machine Kennel bootstraps itself (a server, whose caller the server service checked): its id, to find the worker it buys.</summary>
    internal async Task<(string Id, WorkerToken Token)> CreateTokenForServerAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        var token = OpaqueToken.Create(EnrollmentTokenPrefix);
        var now = time.GetUtcNow();
        await store.InsertTokenAsync(token.Id, token.SecretHash, now.ToUnixTimeMilliseconds(), now.Add(ttl).ToUnixTimeMilliseconds(), cancellationToken);
        return (token.Id, new WorkerToken(token.Value, now.Add(ttl)));
    }

    public async Task<EnrollResponse> EnrollAsync(EnrollRequest request, CancellationToken cancellationToken)
    {
        ValidateName(request.Name);
        ValidateCapacity(request.Capacity);
        if (!OpaqueToken.TryParse(request.Token, EnrollmentTokenPrefix, out var token))
        {
            throw InvalidToken();
        }
        var credential = OpaqueToken.Create(CredentialPrefix);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var worker = NewRow(WorkerId(credential.Id), request.Name, "remote", credential, request.Capacity, request.Labels, now);
        var enrolled = await store.EnrollAsync(token.Id, row => row.UsedAt is null && row.ExpiresAt > now && token.Matches(row.SecretHash),
            worker, now, cancellationToken);
        return enrolled ? new EnrollResponse(worker.Id, credential.Value) : throw InvalidToken();
    }

    /// <summary>
    /// The worker inside <c>kennel serve</c>: its id is fixed by its name so that, after a restart, its first poll (holding
    /// nothing) settles what the previous process left running. Its credential is new on every start.
    /// </summary>
    public async Task<EnrollResponse> EnsureEmbeddedAsync(string name, WorkerCapacity capacity, CancellationToken cancellationToken)
    {
        var credential = OpaqueToken.Create(CredentialPrefix);
        var stableId = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..12];
        var id = WorkerId(stableId);
        var worker = NewRow(id, name, "embedded", credential with { Id = stableId }, capacity, null, time.GetUtcNow().ToUnixTimeMilliseconds());
        await store.UpsertAsync(worker, cancellationToken);
        return new EnrollResponse(id, (credential with { Id = stableId }).Value);
    }

    /// <summary>
    /// Null when the credential is unknown or wrong. A worker authenticates several times per session it runs, so a
    /// credential hash read once is kept; a presented credential that does not match the kept hash is checked against the
    /// store again, which is how a re-keyed worker (the embedded one, on each start) gets in. When workers can be revoked,
    /// revocation must drop the entry here.
    /// </summary>
    public async Task<string?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.TryParse(presented, CredentialPrefix, out var credential))
        {
            return null;
        }
        var id = WorkerId(credential.Id);
        if (knownCredentials.TryGetValue(id, out var known) && credential.Matches(known))
        {
            return id;
        }
        var worker = await store.FindAsync(id, cancellationToken);
        if (worker is null || !credential.Matches(worker.CredentialHash))
        {
            return null;
        }
        knownCredentials[id] = worker.CredentialHash;
        return id;
    }

    /// <summary>Removes a worker that holds no live session, and forgets its credential; false when it still holds one.</summary>
    internal async Task<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var removed = await store.RemoveIdleAsync(id, cancellationToken);
        if (removed)
        {
            knownCredentials.TryRemove(id, out _);
        }
        return removed;
    }

    /// <summary>Every worker one by one, for the installation's admins.</summary>
    public Task<IReadOnlyList<WorkerView>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        return ListAsync(cancellationToken);
    }

    /// <summary>Every worker, unchecked: for totals and health, which show no single worker to the caller.</summary>
    public async Task<IReadOnlyList<WorkerView>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return [.. (await store.ListAsync(cancellationToken)).Select(row => new WorkerView
        {
            Id = row.Id,
            Name = row.Name,
            Kind = row.Kind,
            Health = row.LastSeenAt is { } seen && now - seen <= options.LeaseTtl.TotalMilliseconds ? "healthy" : "lost",
            Capacity = new WorkerCapacity(row.Vcpus, row.MemoryMb, row.Slots),
            Used = new WorkerCapacity(row.UsedVcpus, row.UsedMemoryMb, row.UsedSlots),
            Labels = JsonSerializer.Deserialize(row.Labels, StoreJson.Default.DictionaryStringString) ?? [],
            EnrolledAt = DateTimeOffset.FromUnixTimeMilliseconds(row.EnrolledAt),
            LastSeenAt = row.LastSeenAt is { } last ? DateTimeOffset.FromUnixTimeMilliseconds(last) : null,
            DrainingSince = row.DrainingSince is { } since ? DateTimeOffset.FromUnixTimeMilliseconds(since) : null,
        })];
    }

    // Workers run every workspace's sessions, so only the installation's admins may see them one by one or add them.
    private static void RequireInstallationAdmin(Caller caller)
    {
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may manage workers.");
        }
    }

    public static void ValidateCapacity(WorkerCapacity? capacity)
    {
        if (capacity is null || capacity.Vcpus < 1 || capacity.MemoryMb < 16 || capacity.Slots < 1)
        {
            throw ApiProblem.Invalid("capacity", "capacity needs vcpus >= 1, memoryMb >= 16 and slots >= 1.");
        }
    }

    private static void ValidateName(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw ApiProblem.Invalid("name", "A worker name is 1-100 characters of letters, digits, '.', '_', '-' and '@'.");
        }
    }

    private static WorkerRow NewRow(string id, string name, string kind, OpaqueToken credential, WorkerCapacity capacity,
        IReadOnlyDictionary<string, string>? labels, long now) => new()
        {
            Id = id,
            Name = name,
            Kind = kind,
            CredentialHash = credential.SecretHash,
            Vcpus = capacity.Vcpus,
            MemoryMb = capacity.MemoryMb,
            Slots = capacity.Slots,
            Labels = JsonSerializer.Serialize(new Dictionary<string, string>(labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            StoreJson.Default.DictionaryStringString),
            EnrolledAt = now,
        };

    private static ApiProblem InvalidToken() => new(StatusCodes.Status401Unauthorized, ErrorCodes.TokenInvalid,
        "The enrollment token is not valid.", "It is unknown, expired or already used. Create a new one with 'kennel worker token create'.");

    private static string WorkerId(string credentialId) => $"wrk_{credentialId}";

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,100}$")]
    private static partial Regex NamePattern();
}
