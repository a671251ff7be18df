using System.Net.Http.Headers;
using System.Text;
using Kennel.Testing;

namespace Kennel.Tests.Requests;

/// <summary>
/// <c>POST /v1/sessions</c> with bad input: a 400 problem that names the field, and nothing written. Every test ends by
/// checking that the workspace still has no session.
/// </summary>
public sealed class CreateSessionValidationTests(ServersForBadInput servers) : IClassFixture<ServersForBadInput>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public Task Script_and_command_together_are_refused(string store) =>
        RefusedAsync(store, """{"script": "echo a", "command": ["echo", "b"]}""", "invalid_request", "command");

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public Task Neither_script_nor_command_is_refused(string store) =>
        RefusedAsync(store, """{"env": {"A": "1"}}""", "invalid_request", "script");

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Empty_command_or_program_is_refused(string store)
    {
        await RefusedAsync(store, """{"command": []}""", "invalid_request", "command");
        await RefusedAsync(store, """{"command": ["", "x"]}""", "invalid_request", "command");
        await RefusedAsync(store, """{"command": ["echo", null]}""", "invalid_request", "command");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Blank_script_or_one_with_nul_is_refused(string store)
    {
        await RefusedAsync(store, """{"script": "   "}""", "invalid_request", "script");
        await RefusedAsync(store, """{"script": "echo a\u0000b"}""", "invalid_request", "script");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Timeout_outside_one_second_to_one_day_is_refused(string store)
    {
        foreach (var timeout in new[] { "-1", "0", "999", "86400001" })
        {
            await RefusedAsync(store, $$"""{"script": "true", "timeoutMs": {{timeout}}}""", "invalid_request", "timeoutMs");
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Vcpus_outside_1_to_64_are_refused(string store)
    {
        await RefusedAsync(store, """{"script": "true", "resources": {"vcpus": 0}}""", "invalid_request", "resources.vcpus");
        await RefusedAsync(store, """{"script": "true", "resources": {"vcpus": 65}}""", "invalid_request", "resources.vcpus");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Memory_below_16_mib_or_absurdly_large_is_refused(string store)
    {
        await RefusedAsync(store, """{"script": "true", "resources": {"memoryMb": 8}}""", "invalid_request", "resources.memoryMb");
        await RefusedAsync(store, """{"script": "true", "resources": {"memoryMb": 262145}}""", "invalid_request", "resources.memoryMb");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_network_mode_other_than_none_allowlist_or_open_is_refused_as_unsupported(string store)
    {
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "host"}}""", "unsupported_network_mode", "network.mode");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "bridge"}}""", "unsupported_network_mode", "network.mode");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_allowlist_without_hosts_or_with_addresses_bad_names_or_ports_is_refused_naming_the_entry(string store)
    {
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist"}}""", "invalid_request", "network.allow");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["ok.example.com", "10.0.0.1"]}}""", "invalid_request", "network.allow[1]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["[::1]:443"]}}""", "invalid_request", "network.allow[0]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["bad_name.com"]}}""", "invalid_request", "network.allow[0]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["a.*.com"]}}""", "invalid_request", "network.allow[0]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["example.com:0"]}}""", "invalid_request", "network.allow[0]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "allowlist", "allow": ["example.com:65536"]}}""", "invalid_request", "network.allow[0]");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "none", "allow": ["example.com"]}}""", "invalid_request", "network.allow");
        await RefusedAsync(store, """{"script": "true", "network": {"mode": "open", "byteCap": 0}}""", "invalid_request", "network.byteCap");
        await RefusedAsync(store, """{"script": "true", "network": {"byteCap": 100}}""", "invalid_request", "network.byteCap");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public Task Unknown_snapshot_is_refused(string store) =>
        RefusedAsync(store, """{"script": "true", "snapshot": "ubuntu-99"}""", "snapshot_not_found", "snapshot");

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_env_names_and_values_are_refused_naming_the_variable(string store)
    {
        await RefusedAsync(store, """{"script": "true", "env": {"1BAD": "x"}}""", "invalid_request", "env.1BAD");
        await RefusedAsync(store, """{"script": "true", "env": {"A-B": "x"}}""", "invalid_request", "env.A-B");
        await RefusedAsync(store, """{"script": "true", "env": {"OK": "x", "A=B": "x"}}""", "invalid_request", "env.A=B");
        await RefusedAsync(store, """{"script": "true", "env": {"NUL": "a\u0000b"}}""", "invalid_request", "env.NUL");
        await RefusedAsync(store, """{"script": "true", "env": {"NULL": null}}""", "invalid_request", "env.NULL");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_metadata_is_refused(string store)
    {
        await RefusedAsync(store, """{"script": "true", "metadata": {"": "x"}}""", "invalid_request", "metadata");
        await RefusedAsync(store, $$$"""{"script": "true", "metadata": {"k": "{{{new string('v', 1025)}}}"}}""", "invalid_request", "metadata.k");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public Task Unknown_field_is_refused_naming_it(string store) =>
        RefusedAsync(store, """{"script": "sleep 1", "timeout": 5}""", "invalid_json", "timeout");

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public Task Unknown_nested_field_is_refused_naming_its_path(string store) =>
        RefusedAsync(store, """{"script": "true", "resources": {"gpus": 1}}""", "invalid_json", "resources.gpus");

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Malformed_json_is_refused(string store)
    {
        await RefusedAsync(store, """{"script": """, "invalid_json");
        await RefusedAsync(store, """{"script": "true",}""", "invalid_json");
        await RefusedAsync(store, "{'script': 'true'}", "invalid_json");
        await RefusedAsync(store, """{"script": "true"} trailing""", "invalid_json");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Wrong_types_are_refused_naming_the_field(string store)
    {
        await RefusedAsync(store, """{"script": 5}""", "invalid_json", "script");
        await RefusedAsync(store, """{"command": "echo hi"}""", "invalid_json", "command");
        await RefusedAsync(store, """{"script": "true", "timeoutMs": "soon"}""", "invalid_json", "timeoutMs");
        await RefusedAsync(store, """{"script": "true", "resources": {"vcpus": "two"}}""", "invalid_json", "resources.vcpus");
        await RefusedAsync(store, """{"script": "true", "env": ["A=1"]}""", "invalid_json", "env");
        await RefusedAsync(store, """{"script": "true", "timeoutMs": 1e400}""", "invalid_json", "timeoutMs");
        await RefusedAsync(store, """{"script": "true", "resources": {"vcpus": 99999999999}}""", "invalid_json", "resources.vcpus");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_body_that_is_not_a_json_object_is_refused(string store)
    {
        await RefusedAsync(store, "null", "invalid_json");
        await RefusedAsync(store, "[]", "invalid_json");
        await RefusedAsync(store, "\"echo hi\"", "invalid_json");
        await RefusedAsync(store, "", "invalid_json");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Deeply_nested_json_is_refused_without_an_internal_error(string store)
    {
        var nested = new string('[', 1000) + new string(']', 1000);
        await RefusedAsync(store, $$"""{"script": "true", "metadata": {{nested}}}""", "invalid_json");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Invalid_utf8_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        using var content = new ByteArrayContent([.. "{\"script\": \"echo "u8, 0xff, 0xfe, .. "\"}"u8]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/v1/sessions", content);

        await response.ShouldBeProblemAsync(400, "invalid_json");
        (await client.ListSessionsAsync()).Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_body_that_is_not_json_by_content_type_is_refused(string store)
    {
        await RefusedAsync(store, """{"script": "true"}""", "invalid_json", contentType: "text/plain");
        await RefusedAsync(store, "script=true", "invalid_json", contentType: "application/x-www-form-urlencoded");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_body_over_the_limit_is_refused_as_too_large(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();
        var script = new string('x', 8000);

        using (var sized = await client.PostRawAsync("/v1/sessions", $$"""{"script": "{{script}}"}"""))
        {
            await sized.ShouldBeProblemAsync(413, "payload_too_large");
        }
        // The same without a Content-Length: the limit holds for a chunked body too.
        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"script": "{{script}}"}""")));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await client.SendAsync(request))
        {
            await response.ShouldBeProblemAsync(413, "payload_too_large");
        }

        (await client.ListSessionsAsync()).Items.ShouldBeEmpty();
    }

    private async Task RefusedAsync(string store, string body, string code, string? field = null, string contentType = "application/json")
    {
        var server = await servers.GetAsync(store);
        using var client = server.Client();

        using var response = await client.PostRawAsync("/v1/sessions", body, contentType);

        var problem = await response.ShouldBeProblemAsync(400, code, field);
        if (field is not null)
        {
            problem.Detail.ShouldNotBeNullOrWhiteSpace();
        }
        (await client.ListSessionsAsync()).Items.ShouldBeEmpty($"a refused request wrote a session: {body}");
    }
}
