using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;

namespace Kennel.Testing;

/// <summary>Conversations and runs over REST, the way a user's script calls them.</summary>
public static class ChatApi
{
    /// <summary>Sends a message to a conversation (an id, or a key such as main) and returns the run, waiting up to <paramref name="waitMs"/>.</summary>
    public static async Task<Run> SendAsync(this HttpClient client, string conversation, string message, long waitMs = 60_000)
    {
        using var response = await client.PostAsJsonAsync($"/v1/conversations/{conversation}/messages?waitMs={waitMs}",
            new SendMessageRequest { Message = message }, KennelJson.Default.SendMessageRequest);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Send failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Run))!;
    }

    public static async Task<Run> GetRunAsync(this HttpClient client, string id, long waitMs = 0) =>
        (await client.GetFromJsonAsync($"/v1/runs/{id}?waitMs={waitMs}", KennelJson.Default.Run))!;

    public static async Task<RunPage> ListRunsAsync(this HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync($"/v1/runs{query}", KennelJson.Default.RunPage))!;

    public static async Task<Conversation> GetConversationAsync(this HttpClient client, string id) =>
        (await client.GetFromJsonAsync($"/v1/conversations/{id}", KennelJson.Default.Conversation))!;

    public static async Task<ConversationPage> ListConversationsAsync(this HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync($"/v1/conversations{query}", KennelJson.Default.ConversationPage))!;

    public static async Task<TranscriptPage> HistoryAsync(this HttpClient client, string id, int limit = 200, int offset = 0) =>
        (await client.GetFromJsonAsync($"/v1/conversations/{id}/messages?limit={limit}&offset={offset}", KennelJson.Default.TranscriptPage))!;

    /// <summary>Polls the transcript until an entry matches (the run is still going), for at most a minute.</summary>
    public static async Task<TranscriptEntry> WaitForEntryAsync(this HttpClient client, string conversation, Func<TranscriptEntry, bool> match)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (true)
        {
            if ((await client.HistoryAsync(conversation)).Items.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException("The transcript never held the entry waited for.");
            }
            await Task.Delay(50);
        }
    }
}
