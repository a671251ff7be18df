using Kennel.Testing;

namespace Kennel.Tests.Requests;

/// <summary>Unknown ids and routes, and bad query strings: 404s and 400s as problem details, never an internal error.</summary>
public sealed class RequestErrorTests(ServersForBadInput servers) : IClassFixture<ServersForBadInput>
{
    private const string UnknownId = "ses_01jzzzzzzzzzzzzzzzzzzzzzzz";

    private static readonly string[] MissingIds =
        ["ses_00000000000000000000000000", UnknownId, "nope", "ses_", "SES_01JZZZZZZZZZZZZZZZZZZZZZZZ", new string('a', 2000), "ses_01jzzzzzzzzzzzzzzzzzzzz%27"];

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Unknown_or_malformed_session_ids_are_not_found_everywhere(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        foreach (var id in MissingIds)
        {
            using (var get = await client.GetAsync($"/v1/sessions/{id}"))
            {
                await get.ShouldBeProblemAsync(404, "not_found");
            }
            using (var wait = await client.GetAsync($"/v1/sessions/{id}/wait?timeoutMs=0"))
            {
                await wait.ShouldBeProblemAsync(404, "not_found");
            }
            using (var cancel = await client.PostAsync($"/v1/sessions/{id}/cancel", null))
            {
                await cancel.ShouldBeProblemAsync(404, "not_found");
            }
            using (var stream = await client.GetAsync($"/v1/sessions/{id}/stream"))
            {
                await stream.ShouldBeProblemAsync(404, "not_found");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_list_parameters_are_refused_naming_the_parameter(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        foreach (var (query, field) in new[]
        {
            ("cursor=abc", "cursor"),
            ("cursor=ses_zzzzzzzzzzzzzzzzzzzzzzzzz!", "cursor"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=-5", "limit"),
            ("limit=ten", "limit"),
            ("limit=99999999999999", "limit"),
            ("status=done", "status"),
            ("status=pending,bogus", "status"),
            ("status=PENDING", "status"),
            ("limit=", "limit"),
            ("limit=1&limit=2", "limit"),
        })
        {
            using var response = await client.GetAsync($"/v1/sessions?{query}");
            await response.ShouldBeProblemAsync(400, "invalid_request", field);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_wait_timeouts_are_refused(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var session = await client.RunScriptAsync("true");
        try
        {
            foreach (var timeout in new[] { "-1", "300001", "soon", "1.5" })
            {
                using var response = await client.GetAsync($"/v1/sessions/{session.Id}/wait?timeoutMs={timeout}");
                await response.ShouldBeProblemAsync(400, "invalid_request", "timeoutMs");
            }
        }
        finally
        {
            await client.CancelAsync(session.Id);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Unknown_routes_are_a_not_found_problem(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        foreach (var path in new[] { "/v1/nope", "/nope", "/", "/v2/sessions", $"/v1/sessions/{UnknownId}/explode" })
        {
            using var get = await client.GetAsync(path);
            await get.ShouldBeProblemAsync(404, "not_found");
            using var post = await client.PostRawAsync(path, "{}");
            await post.ShouldBeProblemAsync(404, "not_found");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_wrong_method_on_a_known_route_is_a_problem_not_a_bare_status(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        using var response = await client.DeleteAsync("/v1/sessions");

        ((int)response.StatusCode).ShouldBeOneOf(404, 405);
        (await response.ReadProblemAsync()).Status.ShouldBe((int)response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Health_needs_no_key_and_names_the_store_and_its_version(string store)
    {
        var server = await servers.GetAsync(store);
        using var anonymous = server.Client(null);

        using var response = await anonymous.GetAsync("/v1/health");

        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("status").GetString().ShouldBe("ok");
        json.RootElement.GetProperty("store").GetString().ShouldBe(store);
        json.RootElement.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
        // The SQLite library in the process (a current one, not 2021's 3.35.5), or the PostgreSQL server's version.
        var storeVersion = Version.Parse(json.RootElement.GetProperty("storeVersion").GetString()!);
        storeVersion.ShouldBeGreaterThanOrEqualTo(store == TestStore.Sqlite ? new Version(3, 50) : new Version(13, 0));
    }
}
