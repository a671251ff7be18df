using System.Text.Json.Serialization;

namespace Kennel.Contracts.OAuth;

/// <summary>RFC 8414 metadata at <c>/.well-known/oauth-authorization-server</c> (and <c>openid-configuration</c>).</summary>
public sealed record AuthorizationServerMetadata
{
    public required string Issuer { get; init; }
    public required string AuthorizationEndpoint { get; init; }
    public required string TokenEndpoint { get; init; }
    public required string RegistrationEndpoint { get; init; }
    public required IReadOnlyList<string> ResponseTypesSupported { get; init; }
    public required IReadOnlyList<string> GrantTypesSupported { get; init; }
    public required IReadOnlyList<string> ScopesSupported { get; init; }
    public required IReadOnlyList<string> TokenEndpointAuthMethodsSupported { get; init; }
    public required IReadOnlyList<string> CodeChallengeMethodsSupported { get; init; }
    public required string RevocationEndpoint { get; init; }
    public required IReadOnlyList<string> RevocationEndpointAuthMethodsSupported { get; init; }
    public required string JwksUri { get; init; }
    public required bool ClientIdMetadataDocumentSupported { get; init; }
    public required bool AuthorizationResponseIssParameterSupported { get; init; }
}

/// <summary>RFC 9728 metadata at <c>/.well-known/oauth-protected-resource{endpoint path}</c>.</summary>
public sealed record ProtectedResourceMetadata
{
    public required string Resource { get; init; }
    public required IReadOnlyList<string> ScopesSupported { get; init; }
    public required IReadOnlyList<string> AuthorizationServers { get; init; }
    public required IReadOnlyList<string> BearerMethodsSupported { get; init; }
}

/// <summary>An RFC 7591 registration request, or the body of a client ID metadata document (which adds client_id).</summary>
public sealed record ClientMetadata
{
    public string? ClientId { get; init; }
    public IReadOnlyList<string>? RedirectUris { get; init; }
    public string? ClientName { get; init; }
    public string? TokenEndpointAuthMethod { get; init; }
    public IReadOnlyList<string>? GrantTypes { get; init; }
    public IReadOnlyList<string>? ResponseTypes { get; init; }
    public string? Scope { get; init; }
}

/// <summary>The 201 answer to a registration: seed 004's fields, and the secret for a confidential client.</summary>
public sealed record ClientRegistration
{
    public required string ClientId { get; init; }
    public required long ClientIdIssuedAt { get; init; }
    public required IReadOnlyList<string> RedirectUris { get; init; }
    public required string TokenEndpointAuthMethod { get; init; }
    public required IReadOnlyList<string> GrantTypes { get; init; }
    public required string ClientName { get; init; }
    public required string Scope { get; init; }
    public string? ClientSecret { get; init; }
    public long? ClientSecretExpiresAt { get; init; }
}

public sealed record TokenResponse
{
    public required string AccessToken { get; init; }
    public required string TokenType { get; init; }
    public required int ExpiresIn { get; init; }
    /// <summary>Absent when the client did not register the refresh_token grant type.</summary>
    public string? RefreshToken { get; init; }
    public required string Scope { get; init; }
}

/// <summary>RFC 6749 section 5.2 error: what the token, registration and revocation endpoints answer.</summary>
public sealed record OAuthError(string Error, string ErrorDescription);

public sealed record JsonWebKey
{
    public required string Kty { get; init; }
    public required string Crv { get; init; }
    public required string X { get; init; }
    public required string Y { get; init; }
    public required string Kid { get; init; }
    public required string Use { get; init; }
    public required string Alg { get; init; }
}

public sealed record JsonWebKeySet(IReadOnlyList<JsonWebKey> Keys);

/// <summary>OAuth's JSON is snake_case, unlike the REST API's camelCase.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuthorizationServerMetadata))]
[JsonSerializable(typeof(ProtectedResourceMetadata))]
[JsonSerializable(typeof(ClientMetadata))]
[JsonSerializable(typeof(ClientRegistration))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(OAuthError))]
[JsonSerializable(typeof(JsonWebKeySet))]
public sealed partial class OAuthJson : JsonSerializerContext;
