using System.Data.Common;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Usage;

/// <summary>
/// Writes the usage ledger (<c>model_calls</c>) and its daily roll-up (<c>usage_daily</c>, added to in the same
/// statement batch). A run records a call in the transaction that commits the step it belongs to
/// (<see cref="InsertAsync"/>), so a step, its cost and the day's sums are kept or lost together; anything else records
/// on its own (<see cref="RecordAsync"/>). Returns the row's id.
/// </summary>
public sealed class UsageLedger(Database database, TimeProvider time)
{
    public Task<string> RecordAsync(ModelCall call, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => InsertAsync(connection, transaction, call, cancellationToken), cancellationToken);

    public async Task<string> InsertAsync(DbConnection connection, DbTransaction transaction, ModelCall call, CancellationToken cancellationToken)
    {
        var id = SortableId.New("mc", time);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO model_calls (id, workspace_id, at, agent, provider, model, conversation_id, run_id, input_tokens, output_tokens, " +
            "cache_read_tokens, cache_write_tokens, cost_nano_usd, outcome, duration_ms) VALUES (@id, @WorkspaceId, @at, @Agent, @provider, " +
            "@model, @ConversationId, @RunId, @input, @output, @cacheRead, @cacheWrite, @CostNanoUsd, @Outcome, @durationMs); " +
            "INSERT INTO usage_daily (workspace_id, day, agent, provider, model, calls, input_tokens, output_tokens, cache_read_tokens, " +
            "cache_write_tokens, cost_nano_usd) VALUES (@WorkspaceId, @day, @Agent, @provider, @model, 1, @input, @output, @cacheRead, @cacheWrite, " +
            "@CostNanoUsd) ON CONFLICT (workspace_id, day, agent, provider, model) DO UPDATE SET calls = usage_daily.calls + 1, " +
            "input_tokens = usage_daily.input_tokens + excluded.input_tokens, output_tokens = usage_daily.output_tokens + excluded.output_tokens, " +
            "cache_read_tokens = usage_daily.cache_read_tokens + excluded.cache_read_tokens, " +
            "cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens, " +
            "cost_nano_usd = usage_daily.cost_nano_usd + excluded.cost_nano_usd",
            new
            {
                id,
                call.WorkspaceId,
                at = call.At.ToUnixTimeMilliseconds(),
                day = call.At.ToUnixTimeMilliseconds() / Http.Instants.DayMs,
                call.Agent,
                provider = call.Model.Provider,
                model = call.Model.Id,
                call.ConversationId,
                call.RunId,
                input = call.Usage.Input,
                output = call.Usage.Output,
                cacheRead = call.Usage.CacheRead,
                cacheWrite = call.Usage.CacheWrite,
                call.CostNanoUsd,
                call.Outcome,
                durationMs = (long)call.Duration.TotalMilliseconds,
            }, transaction, cancellationToken: cancellationToken));
        return id;
    }
}
