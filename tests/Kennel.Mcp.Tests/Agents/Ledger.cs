using Dapper;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Mcp.Tests.Agents;

/// <summary>Model calls recorded through the real ledger, as the runtime records them.</summary>
public static class Ledger
{
    public static readonly ModelInfo Gpt = new("openai", "gpt-test", 128_000, false, new ModelPrices(2.50m, 10m, 1.25m, 0m));
    public static readonly ModelInfo Claude = new("anthropic", "claude-test", 200_000, true, new ModelPrices(3m, 15m, 0.30m, 3.75m));

    public static Task<string> WorkspaceIdAsync(this TestServer server, string workspace) =>
        server.Server.Database.ReadAsync(c => c.QuerySingleAsync<string>("SELECT id FROM workspaces WHERE name = @workspace", new { workspace }),
            CancellationToken.None);

    public static async Task<ModelCall> RecordAsync(this TestServer server, string workspaceId, string agent, ModelInfo model, TokenUsage usage,
        string at, string? conversation, string outcome = ModelCallOutcome.Ok)
    {
        var call = new ModelCall(workspaceId, agent, model, usage, outcome, TimeSpan.FromMilliseconds(300), DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture))
        {
            ConversationId = conversation,
        };
        await server.Server.Services.GetRequiredService<UsageLedger>().RecordAsync(call, CancellationToken.None);
        return call;
    }
}
