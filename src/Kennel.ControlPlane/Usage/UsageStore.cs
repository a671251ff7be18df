using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Usage;

/// <summary>
/// Reads the usage ledger (<c>model_calls</c>) and its daily roll-ups (<c>usage_daily</c>), always for one workspace and
/// a time range, on their indexes: sums by group (the roll-ups for whole days, the ledger for the part-days at the
/// edges), sums by conversation (<c>model_calls_usage</c>, which covers every column they read, so the table is not
/// touched), and each provider's last call (<c>model_calls_provider</c>). Every sum is cast to a 64-bit integer, so both stores hand back the same types.
/// </summary>
public sealed class UsageStore(Database database)
{
    private const string Sums =
        "COUNT(*) AS calls, CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input, CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output, " +
        "CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read, CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write, " +
        "CAST(COALESCE(SUM(cost_nano_usd), 0) AS BIGINT) AS cost_nano_usd";

    private const string RollUpSums =
        "CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(input_tokens) AS BIGINT) AS input, CAST(SUM(output_tokens) AS BIGINT) AS output, " +
        "CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read, CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write, " +
        "CAST(SUM(cost_nano_usd) AS BIGINT) AS cost_nano_usd";

    private const string PartSums =
        "CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(input) AS BIGINT) AS input, CAST(SUM(output) AS BIGINT) AS output, " +
        "CAST(SUM(cache_read) AS BIGINT) AS cache_read, CAST(SUM(cache_write) AS BIGINT) AS cache_write, " +
        "CAST(SUM(cost_nano_usd) AS BIGINT) AS cost_nano_usd";

    /// <summary>What a group is keyed by in <c>model_calls</c>: the UTC day number, <c>provider/model</c>, or the agent.</summary>
    private static string GroupKey(string groupBy) => groupBy == UsageService.ByDay ? $"at / {Http.Instants.DayMs}" : RollUpKey(groupBy);

    /// <summary>What a group is keyed by in <c>usage_daily</c>.</summary>
    private static string RollUpKey(string groupBy) => groupBy switch
    {
        UsageService.ByDay => "day",
        UsageService.ByModel => "provider || '/' || model",
        _ => "agent",
    };

    /// <summary>
    /// The sums of [start, end) by group: the daily roll-ups for the whole UTC days inside the range, and
    /// <c>model_calls</c> for the part-days before and after them, added up and ordered by the store, so the answer is the
    /// one a sum over <c>model_calls</c> alone gives.
    /// </summary>
    public Task<List<UsageRow>> SumAsync(string workspaceId, long startMs, long endMs, string groupBy, CancellationToken cancellationToken)
    {
        var days = WholeDays.Of(startMs, endMs);
        var rollUpKey = RollUpKey(groupBy);
        return database.ReadAsync(async connection => (await connection.QueryAsync<UsageRow>(new CommandDefinition(
            $"SELECT grp, {PartSums} FROM (" +
            $"SELECT {rollUpKey} AS grp, {RollUpSums} FROM usage_daily WHERE workspace_id = @workspaceId AND day >= @FirstDay AND day < @EndDay " +
            $"GROUP BY {rollUpKey} UNION ALL {CallSums(groupBy, "startMs", "HeadEndMs")} UNION ALL {CallSums(groupBy, "TailStartMs", "endMs")}) parts GROUP BY grp ORDER BY grp",
            new { workspaceId, startMs, endMs, days.FirstDay, days.EndDay, days.HeadEndMs, days.TailStartMs }, cancellationToken: cancellationToken)))
            .ToList(), cancellationToken);
    }

    /// <summary>
    /// The same sums from <c>model_calls</c> alone, row by row: what <see cref="SumAsync"/> must always equal, and what it
    /// cost to answer before the roll-ups (the benchmark's reference).
    /// </summary>
    public Task<List<UsageRow>> SumCallsAsync(string workspaceId, long startMs, long endMs, string groupBy, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<UsageRow>(new CommandDefinition(
            $"{CallSums(groupBy, "startMs", "endMs")} ORDER BY grp", new { workspaceId, startMs, endMs }, cancellationToken: cancellationToken))).ToList(),
            cancellationToken);

    private static string CallSums(string groupBy, string from, string to)
    {
        var key = GroupKey(groupBy);
        return $"SELECT {key} AS grp, {Sums} FROM model_calls WHERE workspace_id = @workspaceId AND at >= @{from} AND at < @{to} GROUP BY {key}";
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

    /// <summary>
    /// The whole UTC days inside [start, end): day numbers [<see cref="FirstDay"/>, <see cref="EndDay"/>), with the
    /// part-days [start, <see cref="HeadEndMs"/>) before and [<see cref="TailStartMs"/>, end) after. A range holding no
    /// whole day is all head.
    /// </summary>
    public readonly record struct WholeDays(long FirstDay, long EndDay, long HeadEndMs, long TailStartMs)
    {
        public static WholeDays Of(long startMs, long endMs)
        {
            var first = -FloorDay(-startMs);
            var end = FloorDay(endMs);
            return first < end
                ? new WholeDays(first, end, first * Http.Instants.DayMs, end * Http.Instants.DayMs)
                : new WholeDays(0, 0, endMs, endMs);
        }

        private static long FloorDay(long ms) => (ms / Http.Instants.DayMs) - (ms % Http.Instants.DayMs < 0 ? 1 : 0);
    }
}
