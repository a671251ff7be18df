using System.Net;
using Dapper;
using Kennel.ControlPlane.OAuth;
using Kennel.ControlPlane.Users;
using Kennel.Testing;
using Kennel.Tests.OAuth;

namespace Kennel.Tests.Users;

/// <summary>Failed sign-ins are throttled per account, race-free, without telling which accounts exist.</summary>
public sealed class LoginThrottlingTests(ServersOnAManualClock servers) : IClassFixture<ServersOnAManualClock>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Failed_logins_are_throttled_per_account_until_the_delay_passes(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"f-{Guid.NewGuid():N}"[..16]);
        var (browser, fields) = await LoginFormAsync(server);
        using var _ = browser;
        fields["email"] = email;
        for (var attempt = 0; attempt < UserService.FreeFailures + 1; attempt++)
        {
            fields["password"] = $"wrong password {attempt}";
            using var wrong = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
            wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        // Even the right password is refused now: guessing cannot go faster than the delay.
        fields["password"] = OAuthClientSteps.Password;
        using (var locked = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields)))
        {
            locked.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            locked.Headers.RetryAfter.ShouldBeNull();
        }
        servers.Clock.Advance(TimeSpan.FromMinutes(1));
        using var right = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(fields));
        right.StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Parallel_guesses_get_no_more_password_checks_than_sequential_ones(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"p-{Guid.NewGuid():N}"[..16]);
        var (browser, fields) = await LoginFormAsync(server);
        using var _ = browser;
        fields["email"] = email;
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var guess = new Dictionary<string, string>(fields) { ["password"] = $"parallel guess {i}" };
            using var response = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(guess));
            return response.StatusCode;
        }));
        answers.ShouldAllBe(status => status == HttpStatusCode.Unauthorized);
        var counted = await server.Server.Database.ReadAsync(connection => connection.ExecuteScalarAsync<int>(
            "SELECT failed_logins FROM users WHERE email = @email", new { email }), CancellationToken.None);
        counted.ShouldBe(UserService.FreeFailures, "each guess takes its place before its password is checked; the rest find the account locked");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_unknown_email_a_wrong_password_and_a_locked_account_get_the_same_answer(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"e-{Guid.NewGuid():N}"[..16]);
        var (browser, fields) = await LoginFormAsync(server);
        using var _ = browser;

        async Task<(HttpStatusCode Status, string Body, bool RetryAfter)> SignInAsync(string who, string password)
        {
            var form = new Dictionary<string, string>(fields) { ["email"] = who, ["password"] = password };
            using var response = await browser.Http.PostAsync("/oauth/login", new FormUrlEncodedContent(form));
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter is not null);
        }

        var unknown = await SignInAsync($"nobody-{Guid.NewGuid():N}@example.com", "some password 1");
        var wrong = await SignInAsync(email, "some password 1");
        for (var attempt = 0; attempt < UserService.FreeFailures; attempt++)
        {
            await SignInAsync(email, $"another wrong one {attempt}");
        }
        var locked = await SignInAsync(email, OAuthClientSteps.Password);

        unknown.Status.ShouldBe(HttpStatusCode.Unauthorized);
        unknown.Body.ShouldContain(AuthorizeFlow.SignInFailed.Split(',')[0]);
        wrong.ShouldBe(unknown);
        locked.ShouldBe(unknown);
    }

    [Fact]
    public void Ipv6_addresses_share_a_rate_limit_bucket_per_64()
    {
        AuthorizeFlow.PartitionKey(IPAddress.Parse("2001:db8:1:2:aaaa::1")).ShouldBe(AuthorizeFlow.PartitionKey(IPAddress.Parse("2001:db8:1:2:ffff:1:2:3")));
        AuthorizeFlow.PartitionKey(IPAddress.Parse("2001:db8:1:2::1")).ShouldNotBe(AuthorizeFlow.PartitionKey(IPAddress.Parse("2001:db8:1:3::1")));
        AuthorizeFlow.PartitionKey(IPAddress.Parse("::ffff:192.0.2.7")).ShouldBe("192.0.2.7");
        AuthorizeFlow.PartitionKey(IPAddress.Parse("192.0.2.7")).ShouldNotBe(AuthorizeFlow.PartitionKey(IPAddress.Parse("192.0.2.8")));
    }

    private static async Task<(OAuthBrowser Browser, Dictionary<string, string> Fields)> LoginFormAsync(TestServer server)
    {
        var client = await server.RegisterAsync();
        var browser = new OAuthBrowser(server.Url);
        using var page = await browser.Http.GetAsync(server.AuthorizationUrl(client.ClientId, client.RedirectUris[0], OAuthClientSteps.Pkce().Challenge));
        return (browser, OAuthBrowser.Fields(await page.Content.ReadAsStringAsync()));
    }
}
