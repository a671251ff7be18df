using System.Diagnostics;
using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using System.Text.Json;

namespace Kennel.Bench;

/// <summary>Sessions of <c>echo hello</c> through the REST API, one at a time or as a closed loop of clients.</summary>
internal static class SessionRuns
{
    /// <summary>Creates one session, waits for it, and returns the milliseconds from the create to the end.</summary>
    public static async Task<double> RunOneAsync(HttpClient http)
    {
        var started = Stopwatch.GetTimestamp();
        using var created = await http.PostAsJsonAsync("v1/sessions", new CreateSessionRequest { Command = ["echo", "hello"] },
            KennelJson.Default.CreateSessionRequest);
        created.EnsureSuccessStatusCode();
        // Read loosely, so that builds from before a field was added to the contract can be compared too.
        using var session = await JsonDocument.ParseAsync(await created.Content.ReadAsStreamAsync());
        var id = session.RootElement.GetProperty("id").GetString();
        using var waited = await http.GetAsync($"v1/sessions/{id}/wait?timeoutMs=60000");
        waited.EnsureSuccessStatusCode();
        using var done = await JsonDocument.ParseAsync(await waited.Content.ReadAsStreamAsync());
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var status = done.RootElement.GetProperty("status").GetString();
        var stdout = done.RootElement.GetProperty("stdout").GetString();
        if (status != "succeeded" || stdout != "hello\n")
        {
            throw new InvalidOperationException($"Session {id} ended {status} with '{stdout}' {done.RootElement.GetProperty("error")}");
        }

        return elapsed;
    }

    /// <summary>Closed loop: each client creates a session and waits for it, then the next, for the whole duration.</summary>
    public static async Task<(int Completed, double Seconds)> SustainedAsync(HttpClient http, int concurrency, TimeSpan duration)
    {
        var completed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                await RunOneAsync(http);
                Interlocked.Increment(ref completed);
            }
        }));
        return (completed, clock.Elapsed.TotalSeconds);
    }
}
