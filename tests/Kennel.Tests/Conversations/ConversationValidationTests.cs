using System.Net;
using Dapper;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Conversations;

/// <summary>Bad input to conversations and runs: a 400 problem that names the field, and nothing written.</summary>
public sealed class ConversationValidationTests(ServersForBadInput servers) : IClassFixture<ServersForBadInput>
{
    public static TheoryData<string, string, string, string> BadRequests => new()
    {
        { "POST", "/v1/conversations", """{"thinking": "extreme"}""", "thinking" },
        { "POST", "/v1/conversations", """{"key": "has space"}""", "key" },
        { "POST", "/v1/conversations", """{"key": "cnv_lookalike"}""", "key" },
        { "POST", "/v1/conversations", """{"agent": "nobody"}""", "agent" },
        { "POST", "/v1/conversations", """{"label": "a\u0007b"}""", "label" },
        { "POST", "/v1/conversations", """{"colour": "blue"}""", "colour" },
        { "POST", "/v1/conversations/main/messages", """{"message": ""}""", "message" },
        { "POST", "/v1/conversations/main/messages", """{"message": "   "}""", "message" },
        { "POST", "/v1/conversations/main/messages?waitMs=-1", """{"message": "hi"}""", "waitMs" },
        { "POST", "/v1/conversations/main/messages?waitMs=soon", """{"message": "hi"}""", "waitMs" },
        { "POST", "/v1/conversations/bad%20key/messages", """{"message": "hi"}""", "conversation" },
        { "GET", "/v1/conversations?limit=51", "", "limit" },
        { "GET", "/v1/conversations?cursor=nonsense", "", "cursor" },
        { "GET", "/v1/runs?status=sleeping", "", "status" },
        { "GET", "/v1/runs?limit=0", "", "limit" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_a_400_naming_the_field_and_writes_nothing(string method, string path, string body, string field)
    {
        foreach (var store in new[] { TestStore.Sqlite, TestStore.Postgres })
        {
            var server = await servers.GetAsync(store);
            using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Chat);
            var logged = servers.Log.Mark();
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body.Length > 0)
            {
                request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);

            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{store} {method} {path}");
            (await response.ReadProblemAsync()).Field.ShouldBe(field, $"{store} {method} {path}");
            var written = await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<long>(
                "SELECT (SELECT COUNT(*) FROM conversations) + (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM transcript_entries)"),
                CancellationToken.None);
            written.ShouldBe(0, $"{store} {method} {path}");
            servers.Log.Since(logged, Microsoft.Extensions.Logging.LogLevel.Warning).ShouldBeEmpty();
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task With_no_model_provider_a_chat_fails_at_once_saying_how_to_configure_one(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Chat);

        using var response = await client.PostRawAsync("/v1/conversations/main/messages", """{"message": "hello"}""");

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = await response.ReadProblemAsync();
        problem.Code.ShouldBe("provider_not_configured");
        problem.Detail!.ShouldContain("OPENAI_API_KEY");
        (await client.ListRunsAsync()).Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sending_needs_the_chat_scope(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read);

        using var response = await client.PostRawAsync("/v1/conversations/main/messages", """{"message": "hello"}""");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }
}
