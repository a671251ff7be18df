using System.Text;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;
using Microsoft.Extensions.Logging;
using static Kennel.Mcp.Tests.RawMcp;

namespace Kennel.Mcp.Tests;

/// <summary>
/// What a fuzzer found <c>/mcp</c> answering with -32603 "An error occurred.", <c>gateway_error</c> or a leaked
/// <c>'startIndex'</c> (issue 10, items 14-16), and close variants: a bad argument is the tool's
/// <c>invalid_arguments</c> naming it, a request the server cannot read is -32602 Invalid params, nothing is written, and
/// the log holds no warning (the SDK logs a request it could not handle at Warning, with a stack trace).
/// </summary>
public sealed class FuzzFindingsTests(ServersWatchingTheLog servers) : IClassFixture<ServersWatchingTheLog>
{
    private const string Webhook = """ "workload": {"script": "true"}, "trigger": {"type": "webhook", "signature": "none"} """;

    /// <summary>A NUL (which PostgreSQL cannot store) or a lone surrogate (which nothing can decode) in each kind of argument.</summary>
    public static TheoryData<string, string, string, string> BadArguments()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var store in new[] { TestStore.Sqlite, TestStore.Postgres })
        {
            foreach (var (tool, arguments, field) in new[]
            {
                ("get-daemon", """{"name": "a\u0000b"}""", "name"),
                ("delete-daemon", """{"name": "\u0000"}""", "name"),
                ("update-daemon", """{"name": "nightly", "description": "a\u0000"}""", "description"),
                ("create-daemon", $$"""{"name": "a\u0000", {{Webhook}}}""", "name"),
                ("create-daemon", """{"name": "n", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "* * * * *\u0000"}}""", "trigger.cron"),
                ("trigger-webhook", """{"name": "nightly", "payload": "a\u0000"}""", "payload"),
                ("get-session", """{"id": "ses_\u0000"}""", "id"),
                ("cancel-session", """{"id": "\u0000"}""", "id"),
                ("wait-for-session", """{"id": "\u0000", "timeoutMs": 0}""", "id"),
                ("list-sessions", """{"cursor": "\u0000"}""", "cursor"),
                ("create-session", """{"script": "true", "metadata": {"k": "\u0000"}}""", "metadata.k"),
                ("create-session", """{"script": "true", "env": {"K\u0000": "v"}}""", "env.K\\u0000"),
                ("cost-summary", """{"groupBy": "day\u0000"}""", "groupBy"),
                ("get-session", """{"id": "\ud800"}""", "id"),
                ("create-session", """{"command": ["echo", "\udfff"]}""", "command[1]"),
                ("create-session", """{"script": "true", "env": {"\ud800": "v"}}""", "env.\\ud800"),
                ("create-session", """{"script": "\ud800\ud800"}""", "script"),
                ("get-daemon", """{"name": "\ud800x"}""", "name"),
                ("create-daemon", """{"name": "n", "workload": {"script": "\udc00"}, "trigger": {"type": "webhook", "signature": "none"}}""", "workload.script"),
                ("trigger-webhook", """{"name": "nightly", "payload": {"a": ["\ud800"]}}""", "payload.a[0]"),
                ("list-sessions", """{"status": "\ud800"}""", "status"),
            })
            {
                data.Add(store, tool, arguments, field);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Bad_text_in_an_argument_is_invalid_arguments_naming_it(string store, string tool, string arguments, string field)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var session = await OpenSessionAsync(http);
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        var failure = await CallToolAsync(http, session, tool, Encoding.UTF8.GetBytes(arguments));

        failure.GetProperty("error").GetString().ShouldBe("invalid_arguments", failure.ToString());
        failure.GetProperty("field").GetString().ShouldBe(field);
        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Warning).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Invalid_utf8_in_an_argument_is_invalid_arguments_naming_it(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client();
        var session = await OpenSessionAsync(http);

        var failure = await CallToolAsync(http, session, "get-session", [.. """{"id": "ses_"""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]);

        failure.GetProperty("error").GetString().ShouldBe("invalid_arguments");
        failure.GetProperty("field").GetString().ShouldBe("id");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Params_or_arguments_that_are_not_objects_are_invalid_params(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client();
        var session = await OpenSessionAsync(http);
        var logged = servers.Log.Mark();

        foreach (var (method, parameters, mentions) in new[]
        {
            ("tools/call", "\"x\"", "params must be an object"),
            ("tools/call", "[1]", "params must be an object"),
            ("tools/call", "5", "params must be an object"),
            ("tools/call", "true", "params must be an object"),
            ("tools/list", "[1]", "params must be an object"),
            ("tools/list", "\"x\"", "params must be an object"),
            ("tools/call", """{"name": "get-session", "arguments": [1]}""", "arguments must be an object"),
            ("tools/call", """{"name": "get-session", "arguments": "str"}""", "arguments must be an object"),
            ("tools/call", """{"name": "get-session", "arguments": 5}""", "arguments must be an object"),
            ("tools/call", """{"name": "get-session", "arguments": true}""", "arguments must be an object"),
            ("tools/call", """{"name": 5, "arguments": {}}""", "name must be"),
            ("tools/call", """{"name": null}""", "name must be"),
            ("tools/call", """{"arguments": {}}""", "name must be"),
            ("tools/call", """{"name": "\ud800", "arguments": {}}""", "'name' is not valid text"),
            ("tools/call", """{"name": "get-session", "arguments": {"id": "x"}, "_meta": {"k": "\udc00"}}""", "'_meta.k' is not valid text"),
            ("tools/call", """{"\ud800": 1, "name": "get-session"}""", "is not valid text"),
        })
        {
            using var response = await http.SendAsync(Post($$"""{"jsonrpc":"2.0","id":7,"method":"{{method}}","params":{{parameters}}}""", session));
            ((int)response.StatusCode).ShouldBe(200);
            var answer = await ReadEventAsync(response);
            answer.GetProperty("id").GetInt32().ShouldBe(7);
            var error = answer.GetProperty("error");
            error.GetProperty("code").GetInt32().ShouldBe(-32602, answer.ToString());
            error.GetProperty("message").GetString()!.ShouldContain(mentions, Case.Sensitive, answer.ToString());
        }

        servers.Log.Since(logged, LogLevel.Warning).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_initialize_the_server_cannot_read_opens_no_session(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client();

        foreach (var parameters in new[] { "[1]", """{"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "\ud800", "version": "1"}}""" })
        {
            using var response = await http.SendAsync(Post($$"""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{parameters}}}"""));
            ((int)response.StatusCode).ShouldBe(200);
            response.Headers.Contains("Mcp-Session-Id").ShouldBeFalse();
            (await ReadEventAsync(response)).GetProperty("error").GetProperty("code").GetInt32().ShouldBe(-32602);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_bad_argument_is_reported_after_an_unknown_tool_or_a_missing_scope(string store)
    {
        var server = await servers.GetAsync(store);
        using var reader = server.Client(await server.NewKeyAsync(null, Scopes.Read));
        var session = await OpenSessionAsync(reader);

        (await CallToolAsync(reader, session, "launch-missiles", """{"x": "\u0000"}"""u8.ToArray())).GetProperty("error").GetString().ShouldBe("unknown_tool");
        (await CallToolAsync(reader, session, "create-session", """{"script": "\u0000"}"""u8.ToArray())).GetProperty("error").GetString().ShouldBe("insufficient_scope");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_cron_list_with_an_empty_element_is_invalid_arguments_naming_trigger_cron(string store)
    {
        var server = await servers.GetAsync(store);
        using var http = server.Client(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var session = await OpenSessionAsync(http);
        var created = await CallAsync(http, session, "tools/call",
            """{"name": "create-daemon", "arguments": {"name": "nightly", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "0 3 * * *"}}}""");
        created.GetProperty("result").TryGetProperty("isError", out _).ShouldBeFalse(created.ToString());
        var before = await server.SnapshotAsync();
        var logged = servers.Log.Mark();

        foreach (var cron in new[] { "1,,2 * * * *", ", * * * *", "*/5, * * * *", "1, * * * *", "* * * * MON,,FRI", "/5 * * * *" })
        {
            foreach (var (tool, name) in new[] { ("create-daemon", "other"), ("update-daemon", "nightly") })
            {
                var arguments = $$$"""{"name": "{{{name}}}", "workload": {"script": "true"}, "trigger": {"type": "schedule", "cron": "{{{cron}}}"}}""";
                var failure = await CallToolAsync(http, session, tool, Encoding.UTF8.GetBytes(arguments));
                failure.GetProperty("error").GetString().ShouldBe("invalid_arguments", failure.ToString());
                failure.GetProperty("field").GetString().ShouldBe("trigger.cron");
                failure.GetProperty("message").GetString()!.ShouldNotContain("startIndex");
            }
        }

        (await server.SnapshotAsync()).ShouldBe(before);
        servers.Log.Since(logged, LogLevel.Warning).ShouldBeEmpty();
    }

    /// <summary>Calls a tool with raw argument bytes; returns the tool error's <c>{error, message, field}</c>.</summary>
    private static async Task<JsonElement> CallToolAsync(HttpClient http, string session, string tool, byte[] arguments)
    {
        byte[] body = [.. Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"{{tool}}","arguments":"""), .. arguments, .. "}}"u8];
        using var response = await http.SendAsync(Post(body, session));
        var answer = await ReadEventAsync(response);
        var result = answer.GetProperty("result");
        result.GetProperty("isError").GetBoolean().ShouldBeTrue(answer.ToString());
        var text = result.GetProperty("content")[0].GetProperty("text").GetString()!;
        text.ShouldNotContain("An error occurred");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> CallAsync(HttpClient http, string session, string method, string parameters)
    {
        using var response = await http.SendAsync(Post($$"""{"jsonrpc":"2.0","id":2,"method":"{{method}}","params":{{parameters}}}""", session));
        return await ReadEventAsync(response);
    }
}
