using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.Daemons;
using Kennel.ControlPlane.Daemons;

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

    /// <summary>Posts <paramref name="body"/> to a webhook URL with no API key, as GitHub or Slack would.</summary>
    public static async Task<HttpResponseMessage> PostWebhookAsync(this TestServer server, string path, string body, params (string Name, string Value)[] headers)
    {
        using var anonymous = TestServer.Client(server.Url, null);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // A large body waits for the server's go-ahead, as curl does: a server that refuses it by its length answers at once,
        // instead of closing the connection while the body is still being written (a broken pipe rather than its 413).
        request.Headers.ExpectContinue = body.Length > 64 * 1024;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await anonymous.SendAsync(request);
    }

    /// <summary>The headers GitHub sends with a delivery of <paramref name="body"/>: its signature and, when given, its delivery id.</summary>
    public static (string Name, string Value)[] GitHubHeaders(string secret, string body, string? deliveryId = null) =>
    [
        ("X-Hub-Signature-256", WebhookSignature.Sign(WebhookSignature.HmacSha256, secret, Encoding.UTF8.GetBytes(body))),
        .. deliveryId is null ? Array.Empty<(string, string)>() : [("X-GitHub-Delivery", deliveryId)],
    ];

    /// <summary>The headers Slack sends with a request of <paramref name="body"/> made at <paramref name="at"/>.</summary>
    public static (string Name, string Value)[] SlackHeaders(string secret, string body, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds();
        return
        [
            (WebhookSignature.SlackTimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture)),
            ("X-Slack-Signature", WebhookSignature.Sign(WebhookSignature.SlackV0, secret, Encoding.UTF8.GetBytes(body), timestamp)),
        ];
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
