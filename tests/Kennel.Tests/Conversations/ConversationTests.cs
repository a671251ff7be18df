using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.Testing;

namespace Kennel.Tests.Conversations;

/// <summary>Conversations as a user manages them: create, find, list, rename, delete, and read the transcript.</summary>
public sealed class ConversationTests(ChatServers servers) : IClassFixture<ChatServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_conversation_is_created_patched_and_listed_newest_activity_first_a_page_at_a_time(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Chat);
        var created = new List<Conversation>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await CreateAsync(client, new CreateConversationRequest { Key = $"k{i}", Label = i % 2 == 0 ? "even" : "odd" }));
        }
        using (var duplicate = await client.PostAsJsonAsync("/v1/conversations", new CreateConversationRequest { Key = "k1" },
            KennelJson.Default.CreateConversationRequest))
        {
            duplicate.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await duplicate.ReadProblemAsync()).Code.ShouldBe("conversation_exists");
        }

        // Touching the oldest makes it the newest. Activity is kept to the millisecond and ties go to the newer id, so the
        // touch must come at least a millisecond after k4 was created.
        await Task.Delay(5);
        using (var patch = await client.PatchAsJsonAsync($"/v1/conversations/{created[0].Id}",
            new UpdateConversationRequest { Label = "renamed", Thinking = "high" }, KennelJson.Default.UpdateConversationRequest))
        {
            var patched = (await patch.Content.ReadFromJsonAsync(KennelJson.Default.Conversation))!;
            patched.Label.ShouldBe("renamed");
            patched.Thinking.ShouldBe("high");
            patched.Key.ShouldBe("k0");
        }

        var first = await client.ListConversationsAsync("?limit=2");
        first.Items.Select(c => c.Key).ShouldBe(["k0", "k4"]);
        var second = await client.ListConversationsAsync($"?limit=2&cursor={first.NextCursor}");
        second.Items.Select(c => c.Key).ShouldBe(["k3", "k2"]);
        var third = await client.ListConversationsAsync($"?limit=2&cursor={second.NextCursor}");
        third.Items.Select(c => c.Key).ShouldBe(["k1"]);
        third.NextCursor.ShouldBeNull();
        (await client.ListConversationsAsync("?label=even")).Items.Select(c => c.Key).ShouldBe(["k4", "k2"]);
        (await client.ListConversationsAsync("?key=k3")).Items.ShouldHaveSingleItem().Id.ShouldBe(created[3].Id);
        (await client.ListConversationsAsync("?agent=main")).Items.Count.ShouldBe(5);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Deleting_archives_unless_the_transcript_goes_too_and_the_cost_stays_in_the_ledger(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Write, Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Answer("One.")).ThenEvents(ModelScript.Answer("Two."));
        var kept = await client.SendAsync("kept", "hello");
        var gone = await client.SendAsync("gone", "hello");

        using (var archive = await client.DeleteAsync($"/v1/conversations/{kept.ConversationId}"))
        {
            (await archive.Content.ReadFromJsonAsync(KennelJson.Default.DeletedConversation))!.TranscriptDeleted.ShouldBeFalse();
        }
        using (var delete = await client.DeleteAsync($"/v1/conversations/{gone.ConversationId}?deleteTranscript=true"))
        {
            (await delete.Content.ReadFromJsonAsync(KennelJson.Default.DeletedConversation))!.TranscriptDeleted.ShouldBeTrue();
        }

        (await client.ListConversationsAsync()).Items.ShouldBeEmpty();
        (await client.GetConversationAsync(kept.ConversationId)).Archived.ShouldBe(true);
        (await client.HistoryAsync(kept.ConversationId)).Items.Select(e => e.Text).ShouldBe(["hello", "One."]);
        using (var missing = await client.GetAsync($"/v1/conversations/{gone.ConversationId}/messages"))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        using (var missingRun = await client.GetAsync($"/v1/runs/{gone.Id}"))
        {
            missingRun.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        var ledger = await server.Server.Database.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM model_calls WHERE conversation_id = @ConversationId", new { gone.ConversationId }), CancellationToken.None);
        ledger.ShouldBe(1);

        using (var refused = await client.PostRawAsync($"/v1/conversations/{kept.ConversationId}/messages", """{"message": "still there?"}"""))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
            (await refused.ReadProblemAsync()).Code.ShouldBe("conversation_archived");
        }

        // The key is free again: the next message to "kept" starts a new conversation.
        servers.Model.ThenEvents(ModelScript.Answer("Fresh."));
        var fresh = await client.SendAsync("kept", "again");
        fresh.ConversationId.ShouldNotBe(kept.ConversationId);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task History_pages_with_limit_and_offset_as_stored(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Answer("A1")).ThenEvents(ModelScript.Answer("A2"));
        var run = await client.SendAsync("paged", "Q1");
        await client.SendAsync("paged", "Q2");

        var page = await client.HistoryAsync(run.ConversationId, limit: 3, offset: 1);

        page.Items.Select(e => (e.Seq, e.Kind, e.Text)).ShouldBe([(2L, "assistant", "A1"), (3L, "user", "Q2"), (4L, "assistant", "A2")]);
        page.HasMore.ShouldBeFalse();
        (await client.HistoryAsync(run.ConversationId, limit: 1)).HasMore.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_send_with_event_stream_streams_the_text_and_tool_calls_then_the_run(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync(Scopes.Read, Scopes.Chat);
        servers.Model.ThenEvents(ModelScript.Exec("call_1", "echo streamed")).ThenEvents(ModelScript.Answer("Streamed answer."));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/conversations/main/messages")
        {
            Content = JsonContent.Create(new SendMessageRequest { Message = "stream it" }, KennelJson.Default.SendMessageRequest),
        };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await response.ReadEventsAsync(CancellationToken.None);

        events.Select(e => e.Name).ShouldBe(["run", "tool_start", "tool_end", "text", "run"]);
        events[3].Data.ShouldContain("Streamed answer.");
        System.Text.Json.JsonSerializer.Deserialize(events[^1].Data, KennelJson.Default.Run)!.Status.ShouldBe(RunStatus.Succeeded);
    }

    private static async Task<Conversation> CreateAsync(HttpClient client, CreateConversationRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/conversations", request, KennelJson.Default.CreateConversationRequest);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Conversation))!;
    }
}
