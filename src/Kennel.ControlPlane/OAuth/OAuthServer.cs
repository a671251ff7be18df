using Kennel.ControlPlane.Users;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.OAuth;

/// <summary>The authorization server and the user accounts behind it, registered and mapped in one place each.</summary>
public static class OAuthServer
{
    public static IServiceCollection AddOAuth(this IServiceCollection services, string? externalUrl, OAuthOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(provider => new OAuthIssuer(externalUrl, provider.GetRequiredService<IServer>()));
        services.AddSingleton<UserStore>();
        services.AddSingleton<UserService>();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<RevokedGrants>();
        services.AddSingleton<GrantStore>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<ClientMetadataDocuments>();
        services.AddSingleton<ClientRegistry>();
        services.AddSingleton<ConsentStore>();
        services.AddSingleton<LoginSessions>();
        services.AddSingleton<AuthorizationValidator>();
        services.AddSingleton<AuthorizeFlow>();
        services.AddSingleton<RegistrationLimiter>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<ExpiredSecretsSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<ExpiredSecretsSweeper>());
        return services;
    }

    public static void MapOAuth(this IEndpointRouteBuilder app)
    {
        app.MapUsers();
        app.MapOAuthMetadata();
        app.MapAuthorize();
        app.MapTokenEndpoints();
    }
}
