using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Usage;

/// <summary>
/// Reads the usage ledger (<c>model_calls</c>), always for one workspace and a time range, on its indexes: sums by
/// group (<c>model_calls_workspace_at</c>), by conversation (<c>model_calls_conversation</c>), and each provider's last
/// call (<c>model_calls_provider</c>). Every sum is cast to a 64-bit integer, so both stores hand back the same types.
/// </summary>
public sealed class UsageStore(Database database)
{
    private const string Sums =
        "COUNT(*) AS calls, CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input, CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output, " +
        "CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read, CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write, " +
        "CAST(COALESCE(SUM(cost_nano_usd), 0) AS BIGINT) AS cost_nano_usd";

    /// <summary>What a group is keyed by: the UTC day number, <c>provider/model</c>, or the agent.</summary>
    public static string GroupKey(string groupBy) => groupBy switch
    {
        UsageService.ByDay => $"at / {Http.Instants.DayMs}",
        UsageService.ByModel => "provider || '/' || model",
        _ => "agent",
    };

    public Task<List<UsageRow>> SumAsync(string workspaceId, long startMs, long endMs, string groupBy, CancellationToken cancellationToken)
    {
        var key = GroupKey(groupBy);
        return database.ReadAsync(async connection => (await connection.QueryAsync<UsageRow>(new CommandDefinition(
            $"SELECT {key} AS grp, {Sums} FROM model_calls WHERE workspace_id = @workspaceId AND at >= @startMs AND at < @endMs " +
            $"GROUP BY {key} ORDER BY {key}",
            new { workspaceId, startMs, endMs }, cancellationToken: cancellationToken))).ToList(), cancellationToken);
    }

    /// <summary>The costliest conversations of the range (one more than <paramref name="limit"/>, to tell there are more) and the total of all.</summary>
    public Task<(List<UsageRow> Rows, UsageRow Total)> ConversationsAsync(string workspaceId, long startMs, long endMs, string? conversationId, int limit,
        CancellationToken cancellationToken)
    {
        var only = conversationId is null ? "conversation_id IS NOT NULL" : "conversation_id = @conversationId";
        var where = $"WHERE workspace_id = @workspaceId AND {only} AND at >= @startMs AND at < @endMs";
        var parameters = new { workspaceId, conversationId, startMs, endMs, take = limit + 1 };
        return database.ReadAsync(async connection =>
        {
            var rows = (await connection.QueryAsync<UsageRow>(new CommandDefinition(
                $"SELECT conversation_id AS grp, MIN(at) AS first_at, MAX(at) AS last_at, {Sums} FROM model_calls {where} " +
                "GROUP BY conversation_id ORDER BY cost_nano_usd DESC, conversation_id LIMIT @take",
                parameters, cancellationToken: cancellationToken))).ToList();
            var total = await connection.QuerySingleAsync<UsageRow>(new CommandDefinition(
                $"SELECT {Sums} FROM model_calls {where}", parameters, cancellationToken: cancellationToken));
            return (rows, total);
        }, cancellationToken);
    }

    /// <summary>Each named provider's last call in the workspace: its outcome, time and model; providers never called are left out.</summary>
    public Task<List<LastCallRow>> LastCallsAsync(string workspaceId, IReadOnlyList<string> providers, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var rows = new List<LastCallRow>();
            foreach (var provider in providers)
            {
                var row = await connection.QueryFirstOrDefaultAsync<LastCallRow>(new CommandDefinition(
                    "SELECT provider, model, outcome, at FROM model_calls WHERE workspace_id = @workspaceId AND provider = @provider " +
                    "ORDER BY at DESC LIMIT 1", new { workspaceId, provider }, cancellationToken: cancellationToken));
                if (row is not null)
                {
                    rows.Add(row);
                }
            }
            return rows;
        }, cancellationToken);

    public sealed class UsageRow
    {
        public object? Grp { get; set; }
        public long FirstAt { get; set; }
        public long LastAt { get; set; }
        public long Calls { get; set; }
        public long Input { get; set; }
        public long Output { get; set; }
        public long CacheRead { get; set; }
        public long CacheWrite { get; set; }
        public long CostNanoUsd { get; set; }
    }

    public sealed class LastCallRow
    {
        public string Provider { get; set; } = "";
        public string Model { get; set; } = "";
        public string Outcome { get; set; } = "";
        public long At { get; set; }
    }
}
