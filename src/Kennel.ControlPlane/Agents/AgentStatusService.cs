using Kennel.Agents.Providers;
using Kennel.Contracts.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Mcp;
using Kennel.ControlPlane.Usage;
using Kennel.ControlPlane.Workers;
using Kennel.Mcp;
using Kennel.Store;

namespace Kennel.ControlPlane.Agents;

/// <summary>
/// The agent endpoint's <c>status</c>: the store answers, a worker is healthy, and each provider's last call in the
/// workspace, read from the usage ledger (every replica records there, so any replica tells the same).
/// </summary>
public sealed class AgentStatusService(Database database, WorkerRegistry workers, AgentService agents, UsageStore usage)
{
    public async Task<AgentStatus> StatusAsync(Caller caller, CancellationToken cancellationToken)
    {
        var reachable = await HealthEndpoints.StoreIsReachableAsync(database, cancellationToken);
        var store = new StoreStatus(reachable ? "ok" : "unreachable", database.Provider == StoreProvider.Postgres ? "postgres" : "sqlite");
        if (!reachable)
        {
            return new AgentStatus
            {
                Status = "degraded",
                Version = HealthEndpoints.Version,
                Protocol = McpHttpOptions.ProtocolVersion,
                Error = "The store is unreachable.",
                Store = store,
                Workers = new WorkerStatus(0, 0),
                Providers = [],
            };
        }
        var fleet = await workers.ListAsync(cancellationToken);
        var providers = await agents.ProvidersAsync(caller.WorkspaceId, cancellationToken);
        var lastCalls = (await usage.LastCallsAsync(caller.WorkspaceId, [.. providers.Select(p => p.Name)], cancellationToken))
            .ToDictionary(row => row.Provider, StringComparer.Ordinal);
        var error = FleetMcp.WorkerProblem(fleet) ?? (providers.Count == 0
            ? "No model provider is configured: set OPENAI_API_KEY (or OPENAI_BASE_URL) or ANTHROPIC_API_KEY where kennel serve runs, " +
              "or add one with config_set at providers.NAME."
            : null);
        return new AgentStatus
        {
            Status = error is null ? "ok" : "degraded",
            Version = HealthEndpoints.Version,
            Protocol = McpHttpOptions.ProtocolVersion,
            Error = error,
            Store = store,
            Workers = new WorkerStatus(fleet.Count, fleet.Count(w => w.Health == "healthy")),
            Providers = [.. providers.Select(p => new ProviderStatus
            {
                Name = p.Name,
                Kind = p.Kind.Name(),
                Source = p.Installation ? "installation" : "workspace",
                LastCall = lastCalls.TryGetValue(p.Name, out var call)
                    ? new ProviderCall(call.Outcome, DateTimeOffset.FromUnixTimeMilliseconds(call.At), $"{call.Provider}/{call.Model}")
                    : null,
            })],
        };
    }
}
