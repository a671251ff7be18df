using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.Contracts.Workers;

namespace Kennel.Testing;

/// <summary>
/// A worker that speaks the real worker protocol over HTTP (enroll, poll, report) but runs nothing: for tests of which
/// sessions the dispatcher hands out, step by step, where a sandboxed worker's timing would blur the order.
/// </summary>
public sealed class ProtocolWorker : IDisposable
{
    private readonly HttpClient client;
    private readonly List<string> held = [];

    private ProtocolWorker(HttpClient client) => this.client = client;

    public IReadOnlyList<string> Held => held;

    /// <summary>Enrolls a worker of <paramref name="capacity"/> with a token from <paramref name="admin"/>, an installation admin's client.</summary>
    public static async Task<ProtocolWorker> EnrollAsync(HttpClient admin, WorkerCapacity capacity)
    {
        using var tokenResponse = await admin.PostAsync("/v1/workers/tokens", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        tokenResponse.EnsureSuccessStatusCode();
        var token = (await tokenResponse.Content.ReadFromJsonAsync(KennelJson.Default.WorkerToken))!;
        using var anonymous = new HttpClient { BaseAddress = admin.BaseAddress };
        using var enroll = await anonymous.PostAsJsonAsync("/v1/worker/enroll",
            new EnrollRequest(token.Token, $"protocol-{Guid.NewGuid():N}"[..20], capacity, null), KennelJson.Default.EnrollRequest);
        enroll.EnsureSuccessStatusCode();
        var credential = (await enroll.Content.ReadFromJsonAsync(KennelJson.Default.EnrollResponse))!.Credential;
        var client = new HttpClient { BaseAddress = admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
        return new ProtocolWorker(client);
    }

    /// <summary>Polls once without waiting, and holds (and reports started) what it is given.</summary>
    public async Task<IReadOnlyList<SessionAssignment>> PollAsync()
    {
        using var response = await client.PostAsJsonAsync("/v1/worker/poll", new PollRequest { Held = [.. held] }, KennelJson.Default.PollRequest);
        response.EnsureSuccessStatusCode();
        var assignments = (await response.Content.ReadFromJsonAsync(KennelJson.Default.PollResponse))!.Assignments;
        foreach (var assignment in assignments)
        {
            held.Add(assignment.SessionId);
            await ReportAsync(assignment.SessionId, new SessionReport { Started = true });
        }
        return assignments;
    }

    /// <summary>Reports a held session finished (exit 0), which frees its slot.</summary>
    public async Task FinishAsync(string sessionId)
    {
        await ReportAsync(sessionId, new SessionReport
        {
            Exit = new SessionExit { Status = SessionStatus.Succeeded, ExitCode = 0, WallSeconds = 0.1, CpuSeconds = 0 },
        });
        held.Remove(sessionId);
    }

    /// <summary>Asks for a skill archive by hash, as a worker about to mount it does.</summary>
    public Task<HttpResponseMessage> FetchSkillAsync(string sha256) => client.GetAsync($"/v1/worker/skills/{sha256}");

    private async Task ReportAsync(string sessionId, SessionReport report)
    {
        using var response = await SendReportAsync(sessionId, report);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Sends a report as it is and returns the answer, whatever it is.</summary>
    public Task<HttpResponseMessage> SendReportAsync(string sessionId, SessionReport report) =>
        client.PostAsJsonAsync($"/v1/worker/sessions/{sessionId}/report", report, KennelJson.Default.SessionReport);

    public void Dispose() => client.Dispose();
}
