using System.Net;
using Kennel.ControlPlane.OAuth;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.OAuth;

/// <summary>The in-memory set of revoked grants keeps a revocation only as long as a token of the grant can live.</summary>
public sealed class RevokedGrantsTests(ServersOnAManualClock servers) : IClassFixture<ServersOnAManualClock>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_revoked_grant_is_forgotten_once_its_last_access_token_has_expired(string store)
    {
        var server = await servers.GetAsync(store);
        var (tokens, clientId) = await TokenFlowTests.FlowAsync(server);
        using var http = server.Client(null);
        using (var revoke = await http.PostAsync("/oauth/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = tokens.RefreshToken!,
            ["client_id"] = clientId,
        })))
        {
            revoke.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var grantId = OAuthClientSteps.Claim(tokens.AccessToken, "grant_id")!;
        var revoked = server.Server.Services.GetRequiredService<RevokedGrants>();
        (await revoked.IsRevokedAsync(grantId, CancellationToken.None)).ShouldBeTrue();

        servers.Clock.Advance(TimeSpan.FromMinutes(30));
        (await revoked.IsRevokedAsync(grantId, CancellationToken.None)).ShouldBeTrue("its access tokens may still be unexpired");
        using (var refused = await server.InitializeAsync("/mcp", tokens.AccessToken))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        servers.Clock.Advance(TimeSpan.FromMinutes(40));
        (await revoked.IsRevokedAsync(grantId, CancellationToken.None)).ShouldBeFalse("no token of it can be unexpired now");
        using var expired = await server.InitializeAsync("/mcp", tokens.AccessToken);
        expired.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "the token has expired anyway");
    }
}
