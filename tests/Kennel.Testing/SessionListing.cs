using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;

namespace Kennel.Testing;

/// <summary><c>GET /v1/sessions</c> as a script pages through it.</summary>
public static class SessionListing
{
    public static async Task<SessionPage> ListSessionsAsync(this HttpClient client, string query = "")
    {
        using var response = await client.GetAsync($"/v1/sessions{(query.Length > 0 ? "?" + query : "")}");
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Expected 200, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.SessionPage))!;
    }

    /// <summary>Follows <c>nextCursor</c> to the end and returns every page, in order.</summary>
    public static async Task<IReadOnlyList<SessionPage>> ListAllPagesAsync(this HttpClient client, int limit, string? status = null)
    {
        var pages = new List<SessionPage>();
        string? cursor = null;
        do
        {
            var query = $"limit={limit}" + (status is null ? "" : $"&status={status}") + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await client.ListSessionsAsync(query);
            pages.Add(page);
            cursor = page.NextCursor;
            if (pages.Count > 1000)
            {
                throw new InvalidOperationException("Paging never ended.");
            }
        }
        while (cursor is not null);
        return pages;
    }

    /// <summary>Polls until the session reaches <paramref name="status"/>, for tests that must act on a running session.</summary>
    public static async Task<Session> WaitForStatusAsync(this HttpClient client, string id, SessionStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var session = await client.GetSessionAsync(id);
            if (session.Status == status)
            {
                return session;
            }
            if (session.Status.IsTerminal() || DateTimeOffset.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Session {id} is {session.Status.ToWire()}, never reached {status.ToWire()}.");
            }
            await Task.Delay(50);
        }
    }
}
