using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Users;
using Kennel.Testing;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests.OAuth;

/// <summary>
/// The C# SDK client connecting with no API key: it finds the authorization server from the 401, registers itself,
/// sends the user's browser (here <see cref="OAuthBrowser"/>) through login and consent with PKCE, calls a tool with
/// the token, and refreshes it.
/// </summary>
public sealed class SdkOAuthFlowTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    private const string RedirectUri = "http://127.0.0.1:9/callback";

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_sdk_client_registers_signs_in_consents_calls_a_tool_and_refreshes(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"o-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(workspace, Roles.Member);
        using var browser = new OAuthBrowser(server.Url);
        var tokens = new TokenCache();
        var registered = new List<DynamicClientRegistrationResponse>();
        var authorizations = 0;

        await using var client = await ConnectAsync(server, "/mcp", tokens, browser, email, registered, () => authorizations++);
        var list = await client.CallAsync("list-sessions");
        list.IsError.ShouldNotBe(true, list.Text());
        var create = await client.CallAsync("create-session", """{"script": "true"}""");
        create.Failure().Error.ShouldBe("insufficient_scope");
        create.Failure().Message.ShouldBe("Missing scopes: mcp:write");

        registered.Count.ShouldBe(1);
        registered[0].ClientId.ShouldStartWith("mcp_");
        registered[0].ClientSecret.ShouldNotBeNullOrEmpty();
        authorizations.ShouldBe(1);
        var first = (await tokens.GetTokensAsync(CancellationToken.None))!;
        first.Scope.ShouldBe("mcp:read mcp:chat");
        first.RefreshToken!.ShouldStartWith("mcp_rt_");

        // An hour later the access token has expired: the client refreshes it without sending the user to the browser.
        var accessToken = first.AccessToken;
        var refreshToken = first.RefreshToken;
        first.ObtainedAt = DateTimeOffset.UtcNow.AddHours(-2);
        await tokens.StoreTokensAsync(first, CancellationToken.None);
        (await client.CallAsync("list-sessions")).IsError.ShouldNotBe(true);

        authorizations.ShouldBe(1);
        var refreshed = (await tokens.GetTokensAsync(CancellationToken.None))!;
        refreshed.RefreshToken.ShouldNotBe(refreshToken);
        refreshed.AccessToken.ShouldNotBe(accessToken);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workspace_endpoint_gets_a_token_for_that_workspace(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"o-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(workspace, Roles.Member);
        using var browser = new OAuthBrowser(server.Url);
        await using var client = await ConnectAsync(server, $"/w/{workspace}/mcp", new TokenCache(), browser, email, [], () => { });

        var result = await client.CallAsync("agents_list");
        result.IsError.ShouldNotBe(true, result.Text());
        (await client.CallAsync("list-sessions")).Failure().Error.ShouldBe("unknown_tool", "the fleet tools are on /mcp only");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_403_insufficient_scope_makes_the_sdk_client_step_up_and_retry_the_call(string store)
    {
        var server = await servers.GetAsync(store);
        var email = await server.CreateUserAsync($"o-{Guid.NewGuid():N}"[..16], Roles.Member);
        var registration = await server.RegisterAsync(RedirectUri, "client_secret_post");
        using var browser = new OAuthBrowser(server.Url);
        var tokens = new TokenCache();
        var authorizations = 0;
        await using var client = await ConnectAsync(server, "/mcp", tokens, browser, email, [], () => authorizations++, registration);
        (await tokens.GetTokensAsync(CancellationToken.None))!.Scope.ShouldBe("mcp:read mcp:chat");

        var created = await client.CallAsync("create-session", """{"script": "true"}""");
        created.IsError.ShouldNotBe(true, created.Text());
        authorizations.ShouldBe(2);
        (await tokens.GetTokensAsync(CancellationToken.None))!.Scope.ShouldBe("mcp:read mcp:chat mcp:write");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task On_the_agent_endpoint_config_set_makes_the_sdk_client_step_up_to_mcp_write(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = $"o-{Guid.NewGuid():N}"[..16];
        var email = await server.CreateUserAsync(workspace, Roles.Member);
        var registration = await server.RegisterAsync(RedirectUri, "client_secret_post");
        using var browser = new OAuthBrowser(server.Url);
        var tokens = new TokenCache();
        var authorizations = 0;
        await using var client = await ConnectAsync(server, $"/w/{workspace}/mcp", tokens, browser, email, [], () => authorizations++, registration);
        (await tokens.GetTokensAsync(CancellationToken.None))!.Scope.ShouldBe("mcp:read mcp:chat");

        var written = await client.CallAsync("config_set", """{"path": "agents.main.thinking", "value": "low"}""");

        written.IsError.ShouldNotBe(true, written.Text());
        authorizations.ShouldBe(2);
        (await tokens.GetTokensAsync(CancellationToken.None))!.Scope.ShouldBe("mcp:read mcp:chat mcp:write");
    }

    private static async Task<McpClient> ConnectAsync(TestServer server, string path, ITokenCache tokens, OAuthBrowser browser, string email,
        List<DynamicClientRegistrationResponse> registered, Action authorized, Kennel.Contracts.OAuth.ClientRegistration? preRegistered = null) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.Url, path),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                ClientId = preRegistered?.ClientId,
                ClientSecret = preRegistered?.ClientSecret,
                RedirectUri = new Uri(RedirectUri),
                TokenCache = tokens,
                DynamicClientRegistration = new DynamicClientRegistrationOptions
                {
                    ClientName = "SDK test client",
                    ResponseDelegate = (response, _) =>
                    {
                        registered.Add(response);
                        return Task.CompletedTask;
                    },
                },
                AuthorizationCallbackHandler = async (context, _) =>
                {
                    authorized();
                    var back = await browser.AuthorizeAsync(context.AuthorizationUri, email, OAuthClientSteps.Password);
                    back.GetLeftPart(UriPartial.Path).ShouldBe(context.RedirectUri.ToString());
                    return new AuthorizationResult
                    {
                        Code = OAuthBrowser.Query(back, "code"),
                        State = OAuthBrowser.Query(back, "state"),
                        Iss = OAuthBrowser.Query(back, "iss"),
                    };
                },
            },
        }));

    /// <summary>The client's token store, readable by the test.</summary>
    private sealed class TokenCache : ITokenCache
    {
        private TokenContainer? tokens;

        public ValueTask StoreTokensAsync(TokenContainer tokens, CancellationToken cancellationToken)
        {
            this.tokens = tokens;
            return ValueTask.CompletedTask;
        }

        public ValueTask<TokenContainer?> GetTokensAsync(CancellationToken cancellationToken) => ValueTask.FromResult(tokens);
    }
}
