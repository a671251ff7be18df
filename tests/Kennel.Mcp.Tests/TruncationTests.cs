using System.Text;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp.Tests;

/// <summary>Results stay under about 25,000 tokens (100,000 characters): long output is read in ranges, long lists in pages.</summary>
public sealed class TruncationTests(ServersWithWorker servers) : IClassFixture<ServersWithWorker>
{
    private const int Budget = 100_000;

    [Fact]
    public async Task Output_longer_than_the_budget_is_cut_with_a_marker_and_read_whole_in_ranges()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var id = (await client.CallAsync("create-session", """{"script": "head -c 300000 /dev/zero | tr '\\0' x; echo done >&2"}""")).Session().Id;

        var waited = await client.CallAsync("wait-for-session", $$"""{"id": "{{id}}", "timeoutMs": 60000}""");

        var first = waited.Session();
        first.Status.ShouldBe(SessionStatus.Succeeded);
        first.Stdout.Length.ShouldBeLessThan(Budget);
        first.Stderr.ShouldBe("done\n");
        var content = waited.StructuredContent!.Value;
        content.GetProperty("stdoutTotalChars").GetInt32().ShouldBe(300_000);
        var next = content.GetProperty("nextStdoutOffset").GetInt32();
        next.ShouldBe(first.Stdout.Length);
        content.TryGetProperty("nextStderrOffset", out _).ShouldBeFalse();
        waited.Text().ShouldContain($"call get-session with id \"{id}\" and stdoutOffset={next} to read more");
        waited.Text().Length.ShouldBeLessThan(Budget);
        content.GetRawText().Length.ShouldBeLessThan(Budget);

        var stdout = new StringBuilder(first.Stdout);
        for (var calls = 0; calls < 10 && content.TryGetProperty("nextStdoutOffset", out var offset); calls++)
        {
            var range = await client.CallAsync("get-session", $$"""{"id": "{{id}}", "stdoutOffset": {{offset.GetInt32()}}, "maxOutputChars": 70000}""");
            var session = range.Session();
            session.Stdout.Length.ShouldBeLessThanOrEqualTo(70_000);
            range.StructuredContent!.Value.GetProperty("stdoutOffset").GetInt32().ShouldBe(offset.GetInt32());
            stdout.Append(session.Stdout);
            content = range.StructuredContent.Value;
        }

        stdout.ToString().ShouldBe(new string('x', 300_000));
    }

    [Theory]
    [InlineData("get-session", "stdoutOffset", -1)]
    [InlineData("get-session", "stderrOffset", -1)]
    [InlineData("get-session", "maxOutputChars", 0)]
    [InlineData("get-session", "maxOutputChars", 90_001)]
    [InlineData("wait-for-session", "stdoutOffset", -5)]
    [InlineData("wait-for-session", "maxOutputChars", 1_000_000)]
    public async Task A_range_out_of_bounds_is_invalid_arguments_naming_it(string tool, string parameter, long value)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var id = (await client.CallAsync("create-session", """{"script": "true"}""")).Session().Id;

        var refused = (await client.CallAsync(tool, $$"""{"id": "{{id}}", "{{parameter}}": {{value}}}""")).Failure();

        refused.Error.ShouldBe("invalid_arguments");
        refused.Field.ShouldBe(parameter);
    }

    [Fact]
    public async Task The_range_parameters_are_in_the_schemas_with_their_bounds()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read));
        var tools = await client.ListToolsAsync();

        foreach (var tool in new[] { "get-session", "wait-for-session" })
        {
            var properties = tools.Single(t => t.Name == tool).JsonSchema.GetProperty("properties");
            properties.GetProperty("stdoutOffset").GetProperty("minimum").GetInt64().ShouldBe(0);
            properties.GetProperty("stderrOffset").GetProperty("default").GetInt64().ShouldBe(0);
            var max = properties.GetProperty("maxOutputChars");
            max.GetProperty("maximum").GetInt64().ShouldBe(90_000);
            max.GetProperty("default").GetInt64().ShouldBe(90_000);
        }
    }

    [Fact]
    public async Task A_page_over_the_budget_holds_fewer_sessions_and_its_cursor_fetches_the_rest()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write));
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var id = (await client.CallAsync("create-session", """{"script": "head -c 60000 /dev/zero | tr '\\0' y"}""")).Session().Id;
            (await client.CallAsync("wait-for-session", $$"""{"id": "{{id}}", "timeoutMs": 60000}""")).Session().Status.ShouldBe(SessionStatus.Succeeded);
            ids.Add(id);
        }

        var first = await client.CallAsync("list-sessions", """{"limit": 10}""");

        var page = Page(first);
        page.Items.Select(s => s.Id).ShouldBe([ids[1]]);
        page.NextCursor.ShouldBe(ids[1]);
        first.Text().ShouldContain($"call list-sessions with cursor \"{ids[1]}\" for the rest");
        first.StructuredContent!.Value.GetRawText().Length.ShouldBeLessThan(Budget);

        var second = Page(await client.CallAsync("list-sessions", $$"""{"limit": 10, "cursor": "{{page.NextCursor}}"}"""));
        second.Items.Select(s => s.Id).ShouldBe([ids[0]]);
        second.Items[0].Stdout.ShouldBe(new string('y', 60_000));
        second.NextCursor.ShouldBeNull();
    }

    private static SessionPage Page(CallToolResult result)
    {
        result.IsError.ShouldNotBe(true, result.Text());
        return result.StructuredContent!.Value.Deserialize(Kennel.Contracts.KennelJson.Default.SessionPage)!;
    }
}
