using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;

namespace Kennel.Testing;

/// <summary>The daemon endpoints, called as a user's script would.</summary>
public static class DaemonApi
{
    public static async Task<Daemon> CreateDaemonAsync(this HttpClient client, CreateDaemonRequest request)
    {
        using var response = await client.PostAsJsonAsync("/v1/daemons", request, KennelJson.Default.CreateDaemonRequest);
        await Api.EnsureAsync(response, StatusCodes.Status201Created);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Daemon))!;
    }

    public static async Task<Daemon> GetDaemonAsync(this HttpClient client, string name)
    {
        using var response = await client.GetAsync($"/v1/daemons/{name}");
        await Api.EnsureAsync(response, StatusCodes.Status200OK);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Daemon))!;
    }

    public static async Task<DaemonTriggerResult> TriggerDaemonAsync(this HttpClient client, string name, string? payloadJson = null)
    {
        using var response = await client.PostRawAsync($"/v1/daemons/{name}/trigger", payloadJson is null ? "{}" : $"{{\"payload\":{payloadJson}}}");
        if (response.StatusCode is not (System.Net.HttpStatusCode.Accepted or System.Net.HttpStatusCode.OK))
        {
            throw new InvalidOperationException($"Trigger failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.DaemonTriggerResult))!;
    }

    /// <summary>A daemon that runs <paramref name="script"/> on a webhook with the given signature scheme.</summary>
    public static CreateDaemonRequest Webhook(string name, string script, string signature = "hmac-sha256", string? secret = "a-shared-secret-1234") => new()
    {
        Name = name,
        Workload = new DaemonWorkload { Script = script },
        Trigger = new DaemonTriggerRequest { Type = "webhook", Signature = signature, Secret = signature == "none" ? null : secret },
    };

    /// <summary>A daemon that runs <paramref name="script"/> on a cron schedule.</summary>
    public static CreateDaemonRequest Scheduled(string name, string script, string cron, string? timezone = null, string? concurrency = null) => new()
    {
        Name = name,
        Workload = new DaemonWorkload { Script = script },
        Trigger = new DaemonTriggerRequest { Type = "schedule", Cron = cron, Timezone = timezone },
        Concurrency = concurrency,
    };
}
