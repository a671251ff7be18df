using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Cron;

namespace Kennel.Testing;

/// <summary>Cron jobs over REST, the way a user's script calls them.</summary>
public static class CronApi
{
    public static CreateCronJobRequest AgentTurn(string name, string message, CronSchedule schedule, string agent = "main") => new()
    {
        Name = name,
        Agent = agent,
        Schedule = schedule,
        Payload = new CronPayload { Kind = "agentTurn", Message = message },
    };

    public static CronSchedule Every(string every) => new() { Kind = "every", Every = every };

    public static async Task<CreatedCronJob> AddCronJobAsync(this HttpClient client, CreateCronJobRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/cron", request, KennelJson.Default.CreateCronJobRequest);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Adding the job failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.CreatedCronJob))!;
    }

    public static async Task<CronJob> GetCronJobAsync(this HttpClient client, string job) =>
        (await client.GetFromJsonAsync($"/v1/cron/{job}", KennelJson.Default.CronJob))!;

    public static async Task<CronRunPage> CronRunsAsync(this HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync($"/v1/cron/runs{query}", KennelJson.Default.CronRunPage))!;

    /// <summary>Polls the run history until <paramref name="done"/> holds, for at most a minute.</summary>
    public static async Task<CronRunPage> WaitForCronRunsAsync(this HttpClient client, string query, Func<CronRunPage, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (true)
        {
            var page = await client.CronRunsAsync(query);
            if (done(page))
            {
                return page;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"The cron runs never got there; last seen: {string.Join("; ", page.Items.Select(r => $"{r.Id} {r.Status} {r.Error?.Code}"))}");
            }
            await Task.Delay(50);
        }
    }
}
