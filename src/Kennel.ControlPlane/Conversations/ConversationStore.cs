using System.Data.Common;
using System.Text;
using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Conversations;

/// <summary>
/// Conversation and transcript queries. Every one names the workspace in its SQL, so no id reaches another workspace's
/// conversation. The list reads the conversations table alone, by its activity index: never a transcript.
/// </summary>
public sealed class ConversationStore(Database database)
{
    private const string Columns =
        "id, workspace_id, conversation_key, agent, label, thinking, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, " +
        "created_at, last_activity_at, archived";

    private const string EntryColumns =
        "conversation_id, seq, run_id, kind, at, text, call_id, tool, arguments, session_id, is_error, partial, truncated";

    /// <summary>Inserts a conversation; false when its key is taken by another live conversation of the agent.</summary>
    public Task<bool> InsertAsync(ConversationRow row, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => InsertAsync(connection, transaction, row, cancellationToken), cancellationToken);

    /// <summary>
    /// Inserts a conversation inside the caller's transaction; false when its key is taken by another live conversation of
    /// the agent. A conversation with the same key inserted by another transaction at the same moment makes the insert
    /// throw (the unique index), as <see cref="InsertAsync(ConversationRow, CancellationToken)"/> does.
    /// </summary>
    internal static async Task<bool> InsertAsync(DbConnection connection, DbTransaction transaction, ConversationRow row,
        CancellationToken cancellationToken)
    {
        if (row.ConversationKey is not null && await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM conversations WHERE workspace_id = @WorkspaceId AND agent = @Agent AND conversation_key = @ConversationKey " +
            "AND archived = 0", row, transaction, cancellationToken: cancellationToken)) > 0)
        {
            return false;
        }
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO conversations ({Columns}) VALUES (@Id, @WorkspaceId, @ConversationKey, @Agent, @Label, @Thinking, 0, 0, 0, 0, " +
            "@CreatedAt, @LastActivityAt, 0)", row, transaction, cancellationToken: cancellationToken));
        return true;
    }

    public Task<ConversationRow?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM conversations WHERE workspace_id = @workspaceId AND id = @id", new { workspaceId, id },
            cancellationToken: cancellationToken)), cancellationToken);

    public Task<ConversationRow?> FindByKeyAsync(string workspaceId, string agent, string key, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindByKeyAsync(connection, null, workspaceId, agent, key, cancellationToken), cancellationToken);

    /// <summary>The same, inside the caller's transaction when it has one.</summary>
    internal static Task<ConversationRow?> FindByKeyAsync(DbConnection connection, DbTransaction? transaction, string workspaceId, string agent, string key,
        CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM conversations WHERE workspace_id = @workspaceId AND agent = @agent AND conversation_key = @key AND archived = 0",
            new { workspaceId, agent, key }, transaction, cancellationToken: cancellationToken));

    public sealed record ListFilter(string? Agent, string? Label, string? Key, long? BeforeActivity, string? BeforeId, int Limit);

    public Task<List<ConversationRow>> ListAsync(string workspaceId, ListFilter filter, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var sql = new StringBuilder($"SELECT {Columns} FROM conversations WHERE workspace_id = @workspaceId AND archived = 0");
            if (filter.Agent is not null)
            {
                sql.Append(" AND agent = @Agent");
            }
            if (filter.Label is not null)
            {
                sql.Append(" AND label = @Label");
            }
            if (filter.Key is not null)
            {
                sql.Append(" AND conversation_key = @Key");
            }
            if (filter.BeforeActivity is not null)
            {
                sql.Append(" AND (last_activity_at < @BeforeActivity OR (last_activity_at = @BeforeActivity AND id < @BeforeId))");
            }
            sql.Append(" ORDER BY last_activity_at DESC, id DESC LIMIT @Limit");
            return (await connection.QueryAsync<ConversationRow>(new CommandDefinition(sql.ToString(),
                new { workspaceId, filter.Agent, filter.Label, filter.Key, filter.BeforeActivity, filter.BeforeId, filter.Limit },
                cancellationToken: cancellationToken))).ToList();
        }, cancellationToken);

    public Task<bool> UpdateAsync(string workspaceId, string id, string? label, bool setLabel, string? thinking, bool setThinking, long now,
        CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE conversations SET label = CASE WHEN @setLabel THEN @label ELSE label END, " +
            "thinking = CASE WHEN @setThinking THEN @thinking ELSE thinking END, last_activity_at = @now " +
            "WHERE workspace_id = @workspaceId AND id = @id",
            new { workspaceId, id, label, setLabel, thinking, setThinking, now }, transaction, cancellationToken: cancellationToken)) == 1,
            cancellationToken);

    public enum DeleteResult { NotFound, Busy, Done }

    /// <summary>
    /// Archives a conversation (hidden from the list, transcript kept) or deletes it with its transcript and runs. The
    /// usage ledger keeps its rows either way. A conversation with a run queued or running is left alone.
    /// </summary>
    public Task<DeleteResult> DeleteAsync(string workspaceId, string id, bool deleteTranscript, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var args = new { workspaceId, id };
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM conversations WHERE workspace_id = @workspaceId AND id = @id", args, transaction,
                cancellationToken: cancellationToken)) == 0)
            {
                return DeleteResult.NotFound;
            }
            if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM runs WHERE workspace_id = @workspaceId AND conversation_id = @id AND status IN ('queued', 'running')", args,
                transaction, cancellationToken: cancellationToken)) > 0)
            {
                return DeleteResult.Busy;
            }
            if (!deleteTranscript)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE conversations SET archived = 1 WHERE workspace_id = @workspaceId AND id = @id", args, transaction,
                    cancellationToken: cancellationToken));
                return DeleteResult.Done;
            }
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM transcript_entries WHERE workspace_id = @workspaceId AND conversation_id = @id", args, transaction,
                cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM runs WHERE workspace_id = @workspaceId AND conversation_id = @id", args, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM conversations WHERE workspace_id = @workspaceId AND id = @id", args, transaction, cancellationToken: cancellationToken));
            return DeleteResult.Done;
        }, cancellationToken);

    /// <summary>A page of the transcript as stored, in order; one more row than asked tells whether there is more.</summary>
    public Task<List<TranscriptRow>> ReadTranscriptAsync(string workspaceId, string conversationId, int offset, int limit,
        CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<TranscriptRow>(new CommandDefinition(
            $"SELECT {EntryColumns} FROM transcript_entries WHERE workspace_id = @workspaceId AND conversation_id = @conversationId " +
            "ORDER BY seq LIMIT @limit OFFSET @offset", new { workspaceId, conversationId, limit, offset },
            cancellationToken: cancellationToken))).ToList(), cancellationToken);

    /// <summary>The whole transcript, for a run to rebuild the model's context from.</summary>
    public Task<List<TranscriptRow>> ReadTranscriptAsync(string workspaceId, string conversationId, CancellationToken cancellationToken) =>
        ReadTranscriptAsync(workspaceId, conversationId, 0, int.MaxValue, cancellationToken);

    /// <summary>
    /// Appends entries inside the caller's transaction, numbered after the last, and marks the conversation active. Never
    /// updates an entry: the transcript only grows.
    /// </summary>
    internal static async Task AppendAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string conversationId,
        IReadOnlyList<TranscriptRow> entries, long now, CancellationToken cancellationToken)
    {
        var next = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(MAX(seq), 0) FROM transcript_entries WHERE conversation_id = @conversationId", new { conversationId }, transaction,
            cancellationToken: cancellationToken));
        foreach (var entry in entries)
        {
            entry.Seq = ++next;
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO transcript_entries ({EntryColumns}, workspace_id) VALUES (@conversationId, @Seq, @RunId, @Kind, @now, @Text, " +
                "@CallId, @Tool, @Arguments, @SessionId, @IsError, @Partial, @Truncated, @workspaceId)",
                new
                {
                    conversationId,
                    entry.Seq,
                    entry.RunId,
                    entry.Kind,
                    now,
                    entry.Text,
                    entry.CallId,
                    entry.Tool,
                    entry.Arguments,
                    entry.SessionId,
                    entry.IsError,
                    entry.Partial,
                    entry.Truncated,
                    workspaceId,
                }, transaction, cancellationToken: cancellationToken));
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE conversations SET last_activity_at = @now WHERE workspace_id = @workspaceId AND id = @conversationId",
            new { workspaceId, conversationId, now }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>Adds a model call's tokens to its conversation's totals, inside the caller's transaction.</summary>
    internal static Task AddUsageAsync(DbConnection connection, DbTransaction transaction, string workspaceId, string conversationId,
        Kennel.Agents.Providers.TokenUsage usage, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE conversations SET input_tokens = input_tokens + @Input, output_tokens = output_tokens + @Output, " +
            "cache_read_tokens = cache_read_tokens + @CacheRead, cache_write_tokens = cache_write_tokens + @CacheWrite " +
            "WHERE workspace_id = @workspaceId AND id = @conversationId",
            new { workspaceId, conversationId, usage.Input, usage.Output, usage.CacheRead, usage.CacheWrite }, transaction,
            cancellationToken: cancellationToken));
}
