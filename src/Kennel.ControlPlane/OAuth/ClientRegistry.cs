using System.Text.Json;
using Dapper;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.OAuth;
using Kennel.Store;

namespace Kennel.ControlPlane.OAuth;

/// <summary>A registration or metadata document that cannot be accepted: RFC 7591's error code and what is wrong.</summary>
public sealed class ClientMetadataException(string error, string description) : Exception(description)
{
    public string Error { get; } = error;
}

/// <summary>
/// The clients Kennel knows: registered ones (RFC 7591, <c>mcp_…</c>, kept in the store) and those whose client_id is
/// the https URL of their metadata document (fetched by <see cref="ClientMetadataDocuments"/>).
/// </summary>
public sealed class ClientRegistry(Database database, ClientMetadataDocuments documents, TimeProvider time)
{
    public const string IdPrefix = "mcp_";
    private static readonly string[] SupportedGrantTypes = ["authorization_code", "refresh_token"];

    public async Task<ClientRegistration> RegisterAsync(ClientMetadata metadata, CancellationToken cancellationToken)
    {
        var method = metadata.TokenEndpointAuthMethod ?? "client_secret_post";
        if (method is not ("none" or "client_secret_post"))
        {
            throw new ClientMetadataException("invalid_client_metadata", $"token_endpoint_auth_method '{method}' is not supported; use 'none' or 'client_secret_post'.");
        }
        var (redirectUris, name, scopes, grantTypes) = Validate(metadata);
        var secret = method == "none" ? null : OAuthSecrets.New();
        var now = time.GetUtcNow();
        var id = IdPrefix + Guid.NewGuid().ToString("D");
        await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO oauth_clients (id, secret_hash, name, redirect_uris, token_endpoint_auth_method, grant_types, scope, created_at) " +
            "VALUES (@id, @secretHash, @name, @redirectUris, @method, @grantTypes, @scope, @createdAt)",
            new
            {
                id,
                secretHash = secret is null ? null : OAuthSecrets.Hash(secret),
                name = name ?? "",
                redirectUris = string.Join('\n', redirectUris),
                method,
                grantTypes = string.Join(' ', grantTypes),
                scope = OAuthScopes.Format(scopes),
                createdAt = now.ToUnixTimeMilliseconds(),
            }, transaction, cancellationToken: cancellationToken)), cancellationToken);
        return new ClientRegistration
        {
            ClientId = id,
            ClientIdIssuedAt = now.ToUnixTimeSeconds(),
            RedirectUris = redirectUris,
            TokenEndpointAuthMethod = method,
            GrantTypes = grantTypes,
            ClientName = name ?? "",
            Scope = OAuthScopes.Format(scopes),
            ClientSecret = secret,
            ClientSecretExpiresAt = secret is null ? null : 0,
        };
    }

    /// <summary>The client with this id, or null when it is unknown (or its metadata document cannot be used).</summary>
    public async Task<OAuthClient?> FindAsync(string? clientId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientId) || clientId.Length > 2000)
        {
            return null;
        }
        if (clientId.StartsWith("https://", StringComparison.Ordinal))
        {
            return await documents.FindAsync(clientId, cancellationToken);
        }
        if (!clientId.StartsWith(IdPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var row = await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ClientRow>(new CommandDefinition(
            "SELECT id, secret_hash, name, redirect_uris, scope, grant_types FROM oauth_clients WHERE id = @clientId", new { clientId },
            cancellationToken: cancellationToken)), cancellationToken);
        return row is null ? null : new OAuthClient(row.Id, row.Name.Length > 0 ? row.Name : row.Id, row.RedirectUris.Split('\n'),
            OAuthScopes.Parse(row.Scope, out _), row.SecretHash, row.GrantTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Whether the presented secret authenticates the client: none for a public client, the right one otherwise.</summary>
    public static bool Authenticates(OAuthClient client, string? secret) => client.SecretHash is null
        ? string.IsNullOrEmpty(secret)
        : secret is { Length: > 0 } && OAuthSecrets.HashMatches(secret, client.SecretHash);

    /// <summary>The checks registration and metadata documents share: redirect URIs, name, scope and grant types.</summary>
    public static (IReadOnlyList<string> RedirectUris, string? Name, IReadOnlySet<string> Scopes, IReadOnlyList<string> GrantTypes) Validate(ClientMetadata metadata)
    {
        if (metadata.RedirectUris is not { Count: > 0 and <= RedirectUriRules.MaxCount } redirectUris)
        {
            throw new ClientMetadataException("invalid_redirect_uri", $"redirect_uris must list 1 to {RedirectUriRules.MaxCount} URLs.");
        }
        foreach (var uri in redirectUris)
        {
            if (RedirectUriRules.Problem(uri) is { } problem)
            {
                throw new ClientMetadataException("invalid_redirect_uri", problem);
            }
        }
        var name = metadata.ClientName?.Trim();
        if (name is { Length: > 100 } || (name?.Any(char.IsControl) ?? false))
        {
            throw new ClientMetadataException("invalid_client_metadata", "client_name is at most 100 characters, with no control characters.");
        }
        var scopes = metadata.Scope is null ? Scopes.All.ToHashSet(StringComparer.Ordinal) : OAuthScopes.Parse(metadata.Scope, out var unknown) switch
        {
            _ when unknown is not null => throw new ClientMetadataException("invalid_client_metadata", $"Unknown scope '{unknown}'. Scopes: {string.Join(' ', Scopes.All)}."),
            var parsed => parsed,
        };
        var grantTypes = metadata.GrantTypes ?? SupportedGrantTypes;
        if (grantTypes.Any(g => !SupportedGrantTypes.Contains(g)) || !grantTypes.Contains("authorization_code"))
        {
            throw new ClientMetadataException("invalid_client_metadata", "grant_types must include authorization_code and may add refresh_token; nothing else.");
        }
        if (metadata.ResponseTypes is { } responseTypes && responseTypes.Any(r => r != "code"))
        {
            throw new ClientMetadataException("invalid_client_metadata", "response_types may only be [\"code\"].");
        }
        return ([.. redirectUris], string.IsNullOrEmpty(name) ? null : name, scopes, [.. grantTypes.Distinct(StringComparer.Ordinal)]);
    }

    public static ClientMetadata? ParseMetadata(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, OAuthJson.Default.ClientMetadata);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class ClientRow
    {
        public string Id { get; set; } = "";
        public string? SecretHash { get; set; }
        public string Name { get; set; } = "";
        public string RedirectUris { get; set; } = "";
        public string Scope { get; set; } = "";
        public string GrantTypes { get; set; } = "";
    }
}
