using System.Net;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.OAuth;
using Kennel.Testing;
using Microsoft.Extensions.Logging;

namespace Kennel.Tests.Requests;

/// <summary>
/// The inputs a fuzzer found answered with 500 (issue 10, items 13-15), and close variants: each is a 4xx naming the
/// field, in the format the endpoint's clients read, with no stack trace in the answer or the log, and nothing written.
/// </summary>
public sealed class FuzzFindingsTests(ServersForBadInput servers) : IClassFixture<ServersForBadInput>
{
    private const string Form = "application/x-www-form-urlencoded";

    private static readonly string[] TokenFields =
        ["grant_type", "code", "client_id", "client_secret", "redirect_uri", "code_verifier", "resource", "refresh_token", "scope", "token", "token_type_hint", "unknown"];

    private static readonly string[] PageFields =
        ["email", "password", "csrf", "client_id", "redirect_uri", "response_type", "state", "code_challenge", "resource", "scope", "decision", "workspace", "unknown"];

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Token_and_revoke_refuse_a_nul_in_any_field_as_an_oauth_invalid_request(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var path in new[] { "/oauth/token", "/oauth/revoke" })
        {
            foreach (var field in TokenFields)
            {
                foreach (var value in new[] { "a%00b", "%00", "abc%00", "%00%00", "+%00+" })
                {
                    using var response = await http.PostRawAsync(path, $"grant_type=authorization_code&client_id=mcp_x&code=c&token=t&{field}={value}", Form);
                    await ShouldBeOAuthInvalidRequestAsync(response, field);
                }
            }
            using (var inName = await http.PostRawAsync(path, "client_id=mcp_x&co%00de=1", Form))
            {
                await ShouldBeOAuthInvalidRequestAsync(inName, "co\\u0000de");
            }
            foreach (var length in new[] { 2049, 2100, 3000 })
            {
                using var longName = await http.PostRawAsync(path, $"client_id=mcp_x&{new string('k', length)}=1", Form);
                await ShouldBeOAuthInvalidRequestAsync(longName, "kkkkkkkk");
            }
            using var multipart = await http.PostAsync(path, new MultipartFormDataContent { { new StringContent("a\0b"), "code" } });
            await ShouldBeOAuthInvalidRequestAsync(multipart, "x-www-form-urlencoded");
        }

        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sign_in_and_consent_refuse_a_nul_in_any_field_with_a_400_page(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var path in new[] { "/oauth/login", "/oauth/consent" })
        {
            foreach (var field in PageFields)
            {
                using var response = await http.PostRawAsync(path, $"email=a@example.com&password=p&{field}=a%00b", Form);
                await ShouldBeErrorPageAsync(response, field);
            }
            using (var inName = await http.PostRawAsync(path, "em%00ail=a", Form))
            {
                await ShouldBeErrorPageAsync(inName, "em\\u0000ail");
            }
            using var longName = await http.PostRawAsync(path, $"{new string('k', 2049)}=1", Form);
            await ShouldBeErrorPageAsync(longName, "kkkkkkkk");
        }
        using (var authorize = await http.GetAsync("/oauth/authorize?response_type=code&client_id=mcp_%00&redirect_uri=http://127.0.0.1:9/cb"))
        {
            await ShouldBeErrorPageAsync(authorize, "client_id");
        }

        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_flood_of_bad_forms_leaves_no_line_in_the_log(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(null);
        var logged = servers.Log.Mark();

        for (var i = 0; i < 200; i++)
        {
            using var response = await http.PostRawAsync(i % 2 == 0 ? "/oauth/token" : "/oauth/login", i % 4 < 2 ? $"code=x%00{i}" : $"{new string('k', 2100)}={i}", Form);
            ((int)response.StatusCode).ShouldBe(400);
        }

        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_cron_list_with_an_empty_element_is_refused_naming_trigger_cron(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var cron in new[] { "1,,2 * * * *", ", * * * *", "*/5, * * * *", ",1 * * * *", "1, * * * *", "* 1,,2 * * *", "* * 1,2, * *", "* * * ,JAN *", "* * * * MON,,FRI",
            "/5 * * * *", "* /2 * * *", "1,/5 * * * *", ",,,, * * * *" })
        {
            var body = $$$"""{"name": "fuzz", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "{{{cron}}}"}}""";
            using var response = await client.PostRawAsync("/v1/daemons", body);
            var problem = await response.ShouldBeProblemAsync(400, "invalid_request", "trigger.cron");
            problem.Detail!.ShouldNotContain("startIndex");
        }
        using (var created = await client.PostRawAsync("/v1/daemons", """{"name": "fuzz", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "0 3 * * *"}}"""))
        {
            ((int)created.StatusCode).ShouldBe(201);
        }
        var withDaemon = await server.SnapshotAsync();
        using (var patched = await client.PatchAsync("/v1/daemons/fuzz",
            new StringContent("""{"trigger": {"type": "schedule", "cron": "1,,2 * * * *"}}""", System.Text.Encoding.UTF8, "application/json")))
        {
            await patched.ShouldBeProblemAsync(400, "invalid_request", "trigger.cron");
        }

        (await server.SnapshotAsync()).ShouldBe(withDaemon);
        withDaemon.Count.ShouldBeGreaterThan(before.Count);
        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_nul_in_a_query_string_is_refused_naming_the_parameter(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var (url, field) in new[]
        {
            ("/v1/apikeys?workspace=a%00", "workspace"),
            ("/v1/apikeys?workspace=%00", "workspace"),
            ("/v1/sessions?status=pending%00", "status"),
            ("/v1/sessions?cursor=ses_%00", "cursor"),
            ("/v1/sessions?limit=1%00", "limit"),
            ("/v1/sessions?x%00=1", "x\\u0000"),
            ("/v1/cost?from=2026-01-01%00", "from"),
            ("/v1/sessions/ses_01jzzzzzzzzzzzzzzzzzzzzzzz/wait?timeoutMs=0%00", "timeoutMs"),
            ("/v1/daemons?workspace=a%00b", "workspace"),
        })
        {
            using var response = await admin.GetAsync(url);
            await response.ShouldBeProblemAsync(400, "invalid_request", field);
        }
        using (var revoke = await admin.PostAsync("/v1/apikeys/key_x/revoke?workspace=default%00", null))
        {
            await revoke.ShouldBeProblemAsync(400, "invalid_request", "workspace");
        }
        using (var anonymous = server.Client(null))
        using (var webhook = await anonymous.PostAsync("/v1/webhooks/default/fuzz?x=%00", new StringContent("{}")))
        {
            await webhook.ShouldBeProblemAsync(400, "invalid_request", "x");
        }

        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_nul_in_a_path_is_refused_before_any_endpoint(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var before = await server.SnapshotAsync();

        foreach (var url in new[] { "/v1/sessions/ses_%00", "/v1/daemons/a%00b", "/v1/users/a%00b@example.com", "/w/a%00/mcp/health", "/.well-known/oauth-protected-resource/w/a%00/mcp" })
        {
            using var response = await admin.GetAsync(url);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, url);
        }
        using (var webhook = await admin.PostAsync("/v1/webhooks/default/a%00b", new StringContent("{}")))
        {
            webhook.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }

        (await server.SnapshotAsync()).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_nul_in_any_json_string_or_property_name_is_refused_naming_the_field(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Admin);
        using var root = server.Client();
        using (var created = await client.PostRawAsync("/v1/daemons", """{"name": "target", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"}}"""))
        {
            ((int)created.StatusCode).ShouldBe(201);
        }
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var (http, method, path, body, field) in new (HttpClient, string, string, string, string)[]
        {
            (client, "POST", "/v1/sessions", """{"script": "echo a\u0000b"}""", "script"),
            (client, "POST", "/v1/sessions", """{"command": ["echo", "\u0000"]}""", "command[1]"),
            (client, "POST", "/v1/sessions", """{"script": "true", "env": {"A\u0000": "x"}}""", "env.A\\u0000"),
            (client, "POST", "/v1/sessions", """{"script": "true", "metadata": {"k": "a\u0000b"}}""", "metadata.k"),
            (client, "POST", "/v1/sessions", """{"script": "true", "snapshot": "test-minimal\u0000"}""", "snapshot"),
            (client, "POST", "/v1/sessions", """{"script": "true", "network": {"mode": "none\u0000"}}""", "network.mode"),
            (client, "POST", "/v1/sessions", """{"script": "true", "unkn\u0000own": 1}""", "unkn\\u0000own"),
            (client, "POST", "/v1/daemons", """{"name": "a\u0000b", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"}}""", "name"),
            (client, "POST", "/v1/daemons", """{"name": "n", "description": "\u0000", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"}}""", "description"),
            (client, "POST", "/v1/daemons", """{"name": "n", "workload": {"script": "true", "env": {"K": "\u0000"}}, "trigger": {"type": "webhook", "signature": "none"}}""", "workload.env.K"),
            (client, "POST", "/v1/daemons", """{"name": "n", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "* * * * *\u0000"}}""", "trigger.cron"),
            (client, "POST", "/v1/daemons", """{"name": "n", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "@daily", "timezone": "UTC\u0000"}}""", "trigger.timezone"),
            (client, "POST", "/v1/daemons", """{"name": "n", "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "hmac-sha256", "secret": "0123456789abcdef\u0000"}}""", "trigger.secret"),
            (client, "PATCH", "/v1/daemons/target", """{"description": "x\u0000"}""", "description"),
            (client, "POST", "/v1/daemons/target/trigger", """{"payload": {"k": "\u0000"}}""", "payload.k"),
            (client, "POST", "/v1/apikeys", """{"name": "k", "workspace": "w\u0000"}""", "workspace"),
            (client, "POST", "/v1/apikeys", """{"name": "k", "scopes": ["mcp:read\u0000"]}""", "scopes[0]"),
            (root, "POST", "/v1/users", """{"email": "a\u0000@example.com", "password": "a-long-enough-password"}""", "email"),
            (root, "POST", "/v1/users", """{"email": "a@example.com", "password": "a-long-enough-password\u0000"}""", "password"),
            (root, "POST", "/v1/users/a@example.com/memberships", """{"workspace": "w\u0000", "role": "member"}""", "workspace"),
            (root, "POST", "/v1/workers/tokens", """{"ttlSeconds": 60, "x\u0000": 1}""", "x\\u0000"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request);
            await response.ShouldBeProblemAsync(400, "invalid_request", field);
        }
        using (var anonymous = server.Client(null))
        using (var register = await anonymous.PostRawAsync("/oauth/register", """{"redirect_uris": ["http://127.0.0.1:9/cb"], "software_id": "a\u0000b"}"""))
        {
            var body = await register.Content.ReadAsStringAsync();
            ((int)register.StatusCode).ShouldBe(400, body);
            var error = JsonSerializer.Deserialize(body, OAuthJson.Default.OAuthError)!;
            error.Error.ShouldBe("invalid_client_metadata");
            error.ErrorDescription.ShouldContain("software_id");
        }

        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Information).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Undecodable_text_in_a_json_body_is_refused_naming_the_field(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var before = await server.SnapshotAsync();

        foreach (var (body, field) in new[]
        {
            ("""{"script": "true", "metadata": {"k": "\ud800"}}"""u8.ToArray(), "metadata.k"),
            ("""{"script": "true", "metadata": {"\udfff": "v"}}"""u8.ToArray(), "metadata.\\udfff"),
            ("""{"script": "true", "metadata": {"k": "\ud800\ud800"}}"""u8.ToArray(), "metadata.k"),
            ([.. """{"script": "echo """u8, 0xFF, .. "\"}"u8], "script"),
            ([.. """{"script": "echo """u8, 0xED, 0xA0, 0x80, .. "\"}"u8], "script"),
        })
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            using var response = await client.PostAsync("/v1/sessions", content);
            await response.ShouldBeProblemAsync(400, "invalid_json", field);
        }

        (await server.SnapshotAsync()).ShouldBe(before);
    }

    private static async Task ShouldBeOAuthInvalidRequestAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json", body);
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        ShouldNotLeak(body);
        var error = JsonSerializer.Deserialize(body, OAuthJson.Default.OAuthError)!;
        error.Error.ShouldBe("invalid_request", body);
        error.ErrorDescription.ShouldContain(field, Case.Sensitive, body);
    }

    private static async Task ShouldBeErrorPageAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html", body);
        ShouldNotLeak(body);
        body.ShouldContain("This request is not valid");
        body.ShouldContain($"&#x27;{field}", Case.Sensitive, body);
    }

    private static void ShouldNotLeak(string body)
    {
        body.ShouldNotContain("   at ", Case.Sensitive, body);
        body.ShouldNotContain("Exception", Case.Sensitive, body);
        body.ShouldNotContain("System.", Case.Sensitive, body);
    }
}
