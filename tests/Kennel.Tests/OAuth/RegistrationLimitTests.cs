using System.Net;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Servers allowing two registrations a minute per address.</summary>
public sealed class ServersWithARegistrationLimit() : ServersPerStore(s => s with { EmbeddedWorker = false, OAuth = s.OAuth with { RegistrationsPerMinute = 2 } });

public sealed class RegistrationLimitTests(ServersWithARegistrationLimit servers) : IClassFixture<ServersWithARegistrationLimit>
{
    [Fact]
    public async Task Registrations_past_the_limit_get_429()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await server.RegisterAsync();
        await server.RegisterAsync();
        using var http = server.Client(null);
        using var third = await http.PostAsync("/oauth/register", new StringContent("""{"redirect_uris": ["http://127.0.0.1:9/cb"]}""", System.Text.Encoding.UTF8, "application/json"));
        await NegativeBatteryTests.ShouldBeOAuthErrorAsync(third, "too_many_requests", "registrations", HttpStatusCode.TooManyRequests);
    }
}
