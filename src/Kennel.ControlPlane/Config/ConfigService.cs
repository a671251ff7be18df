using System.Text.Json;
using System.Text.Json.Nodes;
using Kennel.Contracts;
using Kennel.Contracts.Config;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Secrets;

namespace Kennel.ControlPlane.Config;

/// <summary>
/// A workspace's config document: read by path, written by path with optimistic concurrency (<c>baseHash</c>), checked
/// against its schema before anything is stored, kept as versions, rolled back. Secret fields never reach the document:
/// a string written there is sealed into the workspace's secrets and the document keeps <c>{"secretSet": true}</c>.
/// </summary>
public sealed class ConfigService(ConfigStore store, SecretService secrets)
{
    public const string ConflictCode = "config_conflict";
    public const int MaxVersionsPage = 100;

    private static readonly JsonObject SecretSet = new() { ["secretSet"] = true };

    public async Task<ConfigValue> GetAsync(Caller caller, string? pathText, CancellationToken cancellationToken)
    {
        var path = ParsePath(pathText);
        var current = await store.CurrentAsync(caller.WorkspaceId, cancellationToken);
        if (!ConfigDocument.TryGet(Parse(current.Document), path, out var value))
        {
            throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Nothing is set at this path.",
                $"The config has no value at '{path}'. kennel config get shows the whole document.", "path");
        }
        return new ConfigValue { Path = path.ToString(), Value = ToElement(value), Hash = current.Hash, Version = current.Version };
    }

    /// <summary>The current document, for the agent runtime.</summary>
    public async Task<JsonObject> DocumentAsync(string workspaceId, CancellationToken cancellationToken) =>
        Parse((await store.CurrentAsync(workspaceId, cancellationToken)).Document);

    /// <summary>Writes one path (or, with <paramref name="wholeDocument"/>, replaces the document) as a new version.</summary>
    public async Task<ConfigWrite> SetAsync(Caller caller, SetConfigRequest request, bool wholeDocument, CancellationToken cancellationToken)
    {
        if (wholeDocument && request.Path is not null)
        {
            throw ApiProblem.Invalid("path", "PUT /v1/config replaces the whole document and takes no path; PATCH sets one path.");
        }
        var path = wholeDocument ? ConfigPath.Root : ParsePath(request.Path);
        if (!wholeDocument && path.Segments.Count == 0)
        {
            throw ApiProblem.Invalid("path", "path is required: the place to set, as agents.main.thinking. PUT /v1/config replaces the whole document.");
        }
        if (request.Value.ValueKind == JsonValueKind.Undefined)
        {
            throw ApiProblem.Invalid("value", "value is required: the JSON to put at the path, or null to remove it.");
        }
        var value = request.Value.ValueKind == JsonValueKind.Null ? null : JsonNode.Parse(request.Value.GetRawText());
        var row = await store.WriteAsync(caller.WorkspaceId, (current, secretNames) =>
        {
            CheckBase(request.BaseHash, current);
            var before = Parse(current.Document);
            var after = ConfigDocument.Set(before, path, value, out var error);
            if (error is not null)
            {
                throw ApiProblem.Invalid("path", error);
            }
            return Decide(caller, before, after, secretNames, [], strictMarkers: true);
        }, cancellationToken);
        return Written(row);
    }

    public async Task<ConfigVersionList> VersionsAsync(Caller caller, long? before, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxVersionsPage)
        {
            throw ApiProblem.Invalid("limit", $"limit must be 1 to {MaxVersionsPage}.");
        }
        var rows = await store.VersionsAsync(caller.WorkspaceId, before, limit ?? 20, cancellationToken);
        return new([.. rows.Select(row => ToVersion(row, withDocument: false))]);
    }

    public async Task<ConfigVersion> VersionAsync(Caller caller, long version, CancellationToken cancellationToken) =>
        ToVersion(await store.VersionAsync(caller.WorkspaceId, version, cancellationToken)
            ?? throw ApiProblem.NotFound("config version", version.ToString(System.Globalization.CultureInfo.InvariantCulture)), withDocument: true);

    /// <summary>
    /// Makes an earlier version's document current again, as a new version. A key that was deleted since is not
    /// brought back (it was never in the document): its field is left out, and the changed paths show it.
    /// </summary>
    public async Task<ConfigWrite> RollbackAsync(Caller caller, RollbackConfigRequest request, CancellationToken cancellationToken)
    {
        var version = request.Version ?? throw ApiProblem.Invalid("version", "version is required: the version to restore (kennel config versions lists them).");
        var target = await store.VersionAsync(caller.WorkspaceId, version, cancellationToken)
            ?? throw ApiProblem.NotFound("config version", version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var row = await store.WriteAsync(caller.WorkspaceId, (current, secretNames) =>
        {
            CheckBase(request.BaseHash, current);
            return Decide(caller, Parse(current.Document), Parse(target.Document), secretNames, [$"rollback to {version}"], strictMarkers: false);
        }, cancellationToken);
        return Written(row);
    }

    /// <summary>Seals new secrets, checks the schema, and says what changed; null when nothing did.</summary>
    private ConfigChange? Decide(Caller caller, JsonObject before, JsonObject after, IReadOnlySet<string> secretNames,
        IReadOnlyList<string> note, bool strictMarkers)
    {
        var sealedSecrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in ConfigSchema.SecretPaths(after))
        {
            var name = SecretName(path);
            ConfigDocument.TryGet(after, path, out var field);
            if (field is JsonValue scalar && scalar.TryGetValue<string>(out var plain) && plain.Length > 0)
            {
                sealedSecrets[name] = secrets.Seal(caller.WorkspaceId, name, plain);
                after = ConfigDocument.Set(after, path, SecretSet, out _);
            }
            else if (JsonNode.DeepEquals(field, SecretSet) && !secretNames.Contains(name))
            {
                if (strictMarkers)
                {
                    throw ApiProblem.Invalid(path.ToString(), $"{path} has no secret to keep: write the key itself as a string.");
                }
                after = ConfigDocument.Set(after, path, null, out _);
                continue;
            }
            kept.Add(name);
        }
        if (ConfigSchema.Violation(after) is { } violation)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "The config does not match its schema.",
                $"{(violation.Path.Length == 0 ? "The document" : violation.Path)}: {violation.Reason}", violation.Path.Length == 0 ? "value" : violation.Path);
        }
        var deleted = secretNames.Where(name => !kept.Contains(name)).ToList();
        var changes = ConfigDocument.Changes(before, after).Union(sealedSecrets.Keys.Select(name => name[SecretStore.ConfigPrefix.Length..]))
            .Distinct(StringComparer.Ordinal).ToList();
        if (changes.Count == 0 && deleted.Count == 0)
        {
            return null;
        }
        var text = after.ToJsonString();
        return new ConfigChange(text, ConfigDocument.Hash(text), Author(caller),
            JsonSerializer.Serialize<List<string>>([.. note, .. changes], KennelJson.Default.ListString), sealedSecrets, deleted);
    }

    private static void CheckBase(string? baseHash, ConfigVersionRow current)
    {
        if (baseHash is not null && baseHash != current.Hash)
        {
            throw new ApiProblem(StatusCodes.Status409Conflict, ConflictCode, "The config changed since it was read.",
                $"baseHash {baseHash} is not the current document's; its hash is now {current.Hash} (version {current.Version}). " +
                "Read it again (kennel config get) and retry with that baseHash.", "baseHash");
        }
    }

    /// <summary>Where a config secret lives among the workspace's secrets: <c>config:</c> and its path.</summary>
    public static string SecretName(ConfigPath path) => SecretStore.ConfigPrefix + path;

    private static string Author(Caller caller) => caller.UserId is { } user ? $"user:{user}" : $"key:{caller.CredentialId}";

    private static ConfigPath ParsePath(string? text) =>
        ConfigPath.TryParse(text, out var path, out var error) ? path : throw ApiProblem.Invalid("path", error);

    private static JsonObject Parse(string document) => JsonNode.Parse(document)!.AsObject();

    private static JsonElement ToElement(JsonNode? node) =>
        JsonSerializer.SerializeToElement(node, KennelJson.Default.JsonNode);

    private static ConfigWrite Written((ConfigVersionRow Row, bool Written) outcome) => new()
    {
        Version = outcome.Row.Version,
        Hash = outcome.Row.Hash,
        ChangedPaths = outcome.Written ? [.. Changes(outcome.Row).Where(change => !change.StartsWith("rollback to ", StringComparison.Ordinal))] : [],
    };

    private static List<string> Changes(ConfigVersionRow row) =>
        JsonSerializer.Deserialize(row.Changes, KennelJson.Default.ListString) ?? [];

    private static ConfigVersion ToVersion(ConfigVersionRow row, bool withDocument) => new()
    {
        Version = row.Version,
        Hash = row.Hash,
        Author = row.Author,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
        ChangedPaths = Changes(row),
        Document = withDocument ? JsonDocument.Parse(row.Document).RootElement.Clone() : null,
    };
}
