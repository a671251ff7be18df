using System.Collections.Concurrent;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Workspaces;
using Kennel.Store;

namespace Kennel.ControlPlane.ApiKeys;

/// <summary>API keys: created with a subset of the creator's scopes, shown once, hashed at rest, revocable at once.</summary>
public sealed class ApiKeyService(ApiKeyStore store, WorkspaceStore workspaces, TimeProvider time)
{
    public const string TokenPrefix = "kn";
    public static readonly IReadOnlyList<string> DefaultScopes = [Scopes.Read, Scopes.Chat];
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, long> lastTouched = new(StringComparer.Ordinal);
    private readonly VerifiedKeyCache verified = new(time, store.IsExclusive ? TimeSpan.FromMinutes(1) : TimeSpan.Zero);

    public async Task<CreatedApiKey> CreateAsync(Caller caller, CreateApiKeyRequest request, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim() ?? "";
        // Control characters would garble listings, and PostgreSQL text cannot hold NUL at all.
        if (name.Length > 100 || name.Any(char.IsControl))
        {
            throw ApiProblem.Invalid("name", "A key's name is at most 100 characters, with no control characters.");
        }
        var workspaceName = request.Workspace ?? caller.WorkspaceName;
        if (!WorkspaceName.IsValid(workspaceName))
        {
            throw ApiProblem.Invalid("workspace", "A workspace name is 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit.");
        }
        if (!string.Equals(workspaceName, caller.WorkspaceName, StringComparison.Ordinal) && !caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may create keys for another workspace.");
        }
        var scopes = request.Scopes is { Count: > 0 } asked ? asked.Distinct(StringComparer.Ordinal).ToList() : [.. DefaultScopes];
        foreach (var scope in scopes)
        {
            if (!Scopes.All.Contains(scope))
            {
                throw ApiProblem.Invalid("scopes", $"Unknown scope '{scope}'. Known scopes: {string.Join(", ", Scopes.All)}.");
            }
            if (!caller.Has(scope))
            {
                throw ApiProblem.Forbidden(ErrorCodes.InsufficientScope, $"A key cannot grant '{scope}', which the calling key does not have.");
            }
        }
        var workspace = await workspaces.EnsureAsync(workspaceName, cancellationToken);
        return await IssueAsync(workspace, name.Length == 0 ? "unnamed" : name, scopes, cancellationToken);
    }

    /// <summary>Issues a key with no caller: the bootstrap admin key of a new installation.</summary>
    public async Task<CreatedApiKey?> IssueBootstrapKeyAsync(CancellationToken cancellationToken)
    {
        if (!await store.ClaimBootstrapAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken))
        {
            return null;
        }
        var workspace = await workspaces.EnsureAsync(WorkspaceStore.DefaultName, cancellationToken);
        return await IssueAsync(workspace, "bootstrap admin", Scopes.All, cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(Caller caller, string? workspaceName, CancellationToken cancellationToken)
    {
        var workspace = await ResolveWorkspaceAsync(caller, workspaceName, cancellationToken);
        return [.. (await store.ListAsync(workspace.Id, cancellationToken)).Select(ToContract)];
    }

    public async Task<ApiKey> RevokeAsync(Caller caller, string id, string? workspaceName, CancellationToken cancellationToken)
    {
        var workspace = await ResolveWorkspaceAsync(caller, workspaceName, cancellationToken);
        _ = await store.FindAsync(workspace.Id, id, cancellationToken) ?? throw ApiProblem.NotFound("API key", id);
        await store.RevokeAsync(workspace.Id, id, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        // After the write: a check that read the row before it is not kept either (see VerifiedKeyCache.Remember).
        verified.Forget(id);
        return ToContract((await store.FindAsync(workspace.Id, id, cancellationToken))!);
    }

    /// <summary>Checks a presented key. Null means unknown, malformed or revoked: all three look the same to the caller.</summary>
    public async Task<Caller?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.TryParse(presented, TokenPrefix, out var token))
        {
            return null;
        }
        var id = KeyId(token.Id);
        if (verified.Find(id, token) is { } known)
        {
            await TouchAsync(id, cancellationToken);
            return known;
        }
        var generation = verified.Generation;
        var row = await store.FindForAuthenticationAsync(id, cancellationToken);
        if (row is null || row.RevokedAt is not null || !token.Matches(row.SecretHash))
        {
            return null;
        }
        await TouchAsync(row.Id, cancellationToken);
        var caller = new Caller(row.WorkspaceId, row.WorkspaceName, ParseScopes(row.Scopes), row.Id);
        verified.Remember(id, row.SecretHash, caller, generation);
        return caller;
    }

    private async Task<CreatedApiKey> IssueAsync(Workspace workspace, string name, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var token = OpaqueToken.Create(TokenPrefix);
        var row = new ApiKeyRow
        {
            Id = KeyId(token.Id),
            WorkspaceId = workspace.Id,
            WorkspaceName = workspace.Name,
            Name = name,
            SecretHash = token.SecretHash,
            Scopes = string.Join(' ', scopes),
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await store.InsertAsync(row, cancellationToken);
        return new CreatedApiKey(ToContract(row), token.Value);
    }

    private async Task<Workspace> ResolveWorkspaceAsync(Caller caller, string? workspaceName, CancellationToken cancellationToken)
    {
        if (workspaceName is null || string.Equals(workspaceName, caller.WorkspaceName, StringComparison.Ordinal))
        {
            return new Workspace(caller.WorkspaceId, caller.WorkspaceName);
        }
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may manage another workspace's keys.");
        }
        return await workspaces.FindByNameAsync(workspaceName, cancellationToken) ?? throw ApiProblem.NotFound("workspace", workspaceName);
    }

    // last_used_at is for people auditing keys; a write per request would cost more than it tells, so it is coarse.
    private async Task TouchAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (lastTouched.TryGetValue(id, out var last) && now - last < TouchInterval.TotalMilliseconds)
        {
            return;
        }
        lastTouched[id] = now;
        await store.TouchAsync(id, now, cancellationToken);
    }

    private static string KeyId(string tokenId) => $"key_{tokenId}";

    private static HashSet<string> ParseScopes(string scopes) =>
        scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static ApiKey ToContract(ApiKeyRow row) => new()
    {
        Id = row.Id,
        Name = row.Name,
        Workspace = row.WorkspaceName,
        Scopes = [.. row.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        LastUsedAt = row.LastUsedAt is { } used ? DateTimeOffset.FromUnixTimeMilliseconds(used) : null,
        RevokedAt = row.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null,
    };
}
