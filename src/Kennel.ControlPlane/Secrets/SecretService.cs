using System.Text;
using Kennel.Contracts.Secrets;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Secrets;

/// <summary>
/// The values of a secret lookup: those found and decrypted, the names that do not exist, and those whose stored value
/// does not decrypt (another key-encryption key, or a value copied from another row).
/// </summary>
public sealed record ResolvedSecrets(IReadOnlyDictionary<string, string> Values, IReadOnlyList<string> Missing, IReadOnlyList<string> Unreadable);

/// <summary>
/// A workspace's secrets: set, listed and deleted by people, and resolved by name, by workspace, for whatever hands them
/// to a workload. Values are encrypted under the installation's key-encryption key with the workspace and the name as
/// associated data. No method returns a value to a caller; only <see cref="ResolveAsync"/> decrypts, and nothing here
/// logs one.
/// </summary>
public sealed partial class SecretService(SecretStore store, KeyEncryption encryption, TimeProvider time, ILogger<SecretService> logger)
{
    public const int MaxValueBytes = 64 * 1024;
    public const int MaxPerWorkspace = 500;

    /// <summary>Creates or replaces a secret; true when it was created.</summary>
    public async Task<(Secret Secret, bool Created)> SetAsync(Caller caller, string name, SetSecretRequest request, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var value = request.Value ?? throw ApiProblem.Invalid("value", $"value is required: the secret, as a string of 1 to {MaxValueBytes} bytes.");
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length is 0 or > MaxValueBytes)
        {
            throw ApiProblem.Invalid("value", $"value must be 1 to {MaxValueBytes} bytes of UTF-8; it is {bytes.Length}.");
        }
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw ApiProblem.Invalid("value", "value must not contain NUL characters: it becomes an environment variable.");
        }
        var (outcome, row) = await store.SetAsync(caller.WorkspaceId, name, encryption.Encrypt(AssociatedData(caller.WorkspaceId, name), bytes),
            time.GetUtcNow().ToUnixTimeMilliseconds(), MaxPerWorkspace, cancellationToken);
        if (outcome == SecretStore.SetOutcome.LimitReached)
        {
            throw ApiProblem.Conflict(ErrorCodes.SecretLimitReached,
                $"This workspace already has {MaxPerWorkspace} secrets, the most it may keep. Delete one it no longer needs first.");
        }
        return (ToContract(row!, caller), outcome == SecretStore.SetOutcome.Created);
    }

    public async Task<SecretList> ListAsync(Caller caller, CancellationToken cancellationToken) =>
        new([.. (await store.ListAsync(caller.WorkspaceId, cancellationToken)).Select(row => ToContract(row, caller))]);

    public async Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (!await store.DeleteAsync(caller.WorkspaceId, name, cancellationToken))
        {
            throw ApiProblem.NotFound("secret", name);
        }
    }

    /// <summary>
    /// Refuses names the workspace has no secret for (400 <c>secret_not_found</c>, naming <paramref name="field"/>), so a
    /// session or daemon that names a missing secret fails when it is created rather than when it runs.
    /// </summary>
    public async Task RequireAsync(string workspaceId, IReadOnlyList<string>? names, string field, CancellationToken cancellationToken)
    {
        if (names is not { Count: > 0 })
        {
            return;
        }
        var existing = await store.ExistingAsync(workspaceId, names, cancellationToken);
        if (names.FirstOrDefault(name => !existing.Contains(name)) is { } missing)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.SecretNotFound, "The secret does not exist.",
                $"There is no secret '{missing}' in this workspace. Set it first: kennel secret set {missing} (PUT /v1/secrets/{missing}).", field);
        }
    }

    /// <summary>
    /// The values of one workspace's secrets, by name, decrypted: the one way a value leaves the store, for whatever hands
    /// it to a workload (a worker's claim today; an agent's provider keys and channel tokens next).
    /// </summary>
    public async Task<ResolvedSecrets> ResolveAsync(string workspaceId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var unreadable = new List<string>();
        foreach (var row in await store.ReadValuesAsync(workspaceId, names, cancellationToken))
        {
            try
            {
                values[row.Name] = Encoding.UTF8.GetString(encryption.Decrypt(AssociatedData(workspaceId, row.Name), row.EncryptedValue));
            }
            catch (KeyEncryptionException failure)
            {
                LogUnreadable(logger, failure, workspaceId, row.Name);
                unreadable.Add(row.Name);
            }
        }
        return new ResolvedSecrets(values, [.. names.Where(name => !values.ContainsKey(name) && !unreadable.Contains(name))], unreadable);
    }

    /// <summary>
    /// A value encrypted as a secret of this name would be, for a caller that stores it in its own transaction (the config
    /// does, so a key and the version that sets it commit together). <see cref="ResolveAsync"/> reads it back.
    /// </summary>
    public string Seal(string workspaceId, string name, string value) =>
        encryption.Encrypt(AssociatedData(workspaceId, name), Encoding.UTF8.GetBytes(value));

    /// <summary>What a ciphertext is bound to: this workspace's secret of this name, and nothing else (not a signing key either).</summary>
    private static string AssociatedData(string workspaceId, string name) => $"secret/{workspaceId}/{name}";

    private static void ValidateName(string name)
    {
        if (CreateSessionValidator.EnvNameProblem(name) is { } problem)
        {
            throw ApiProblem.Invalid("name", $"{problem} A secret's name is the variable the workload sees.");
        }
    }

    private static Secret ToContract(SecretRow row, Caller caller) => new()
    {
        Name = row.Name,
        Workspace = caller.WorkspaceName,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secret {Name} of workspace {WorkspaceId} cannot be decrypted")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string workspaceId, string name);
}
