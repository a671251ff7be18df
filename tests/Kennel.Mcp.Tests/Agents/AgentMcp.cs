using Kennel.Testing;
using ModelContextProtocol.Client;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>The official C# SDK client on a workspace's agent endpoint, <c>/w/{workspace}/mcp</c>, with an API key.</summary>
public static class AgentMcp
{
    public static readonly string[] ToolNames =
    [
        "agents_list", "channels_action", "channels_history", "channels_status", "chat_abort", "chat_history", "chat_run_cancel", "chat_run_get", "chat_run_list", "chat_send", "chat_send_async",
        "config_get", "config_set", "cron_add", "cron_list", "cron_remove", "cron_run", "cron_runs", "models_list", "sessions_delete",
        "sessions_get", "sessions_list", "sessions_patch", "sessions_usage", "skills_browse", "skills_install", "skills_list", "skills_registries",
        "status", "usage_cost",
    ];

    public static async Task<McpClient> ConnectAgentAsync(this TestServer server, string workspace, string apiKey) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.Url, $"/w/{workspace}/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {apiKey}" },
        }));

    /// <summary>A new workspace's name.</summary>
    public static string NewWorkspace() => $"a-{Guid.NewGuid():N}"[..20];
}
