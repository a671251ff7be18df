using System.Globalization;
using Kennel.Agents.Models;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.Store;

namespace Kennel.ControlPlane.Conversations;

/// <summary>
/// What people and their tools can do with conversations (seed 004's sessions). REST, CLI and MCP are thin faces over
/// these calls.
/// </summary>
public sealed class ConversationService(ConversationStore store, AgentService agents, TimeProvider time)
{
    public const string ConversationExists = "conversation_exists";
    public const string ConversationBusy = "conversation_busy";
    public const string ConversationArchived = "conversation_archived";

    public async Task<Conversation> CreateAsync(Caller caller, CreateConversationRequest request, CancellationToken cancellationToken)
    {
        var key = ConversationValidator.Key(request.Key);
        var label = ConversationValidator.Label(request.Label);
        var thinking = ConversationValidator.Thinking(request.Thinking);
        var agent = await AgentAsync(caller, request.Agent, cancellationToken);
        var row = NewRow(caller, agent, key, label, thinking);
        if (!await store.InsertAsync(row, cancellationToken))
        {
            var existing = await store.FindByKeyAsync(caller.WorkspaceId, agent, key!, cancellationToken);
            throw ApiProblem.Conflict(ConversationExists,
                $"Agent '{agent}' already has a conversation with key '{key}' ({existing?.Id}). Use it, or delete it first.");
        }
        return row.ToContract();
    }

    public async Task<Conversation> GetAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        (await RowAsync(caller, id, cancellationToken)).ToContract();

    /// <summary>A conversation a message is to go to: found already, or to be made for the key on first use.</summary>
    public sealed record Target(string Agent, ConversationRow? Existing, string Key);

    /// <summary>
    /// Where a message goes, checked without writing anything: a conversation by id (<c>cnv_…</c>), or by key for the
    /// agent. No conversation at all means the agent's <c>main</c>.
    /// </summary>
    public async Task<Target> FindTargetAsync(Caller caller, string? conversation, string? agentName, CancellationToken cancellationToken)
    {
        if (conversation is not null && conversation.StartsWith("cnv_", StringComparison.Ordinal))
        {
            var row = await RowAsync(caller, conversation, cancellationToken);
            return row.Archived != 0
                ? throw ApiProblem.Conflict(ConversationArchived,
                    $"Conversation '{conversation}' was deleted (archived): its transcript is kept, but it takes no more messages.")
                : new Target(row.Agent, row, row.ConversationKey ?? "");
        }
        var key = ConversationValidator.Key(conversation ?? AgentDefinition.MainName, "conversation")!;
        var agent = await AgentAsync(caller, agentName, cancellationToken);
        return new Target(agent, await store.FindByKeyAsync(caller.WorkspaceId, agent, key, cancellationToken), key);
    }

    /// <summary>
    /// The id of a conversation named by id (<c>cnv_…</c>) or by key for the agent (<c>main</c> when none is named); a key
    /// no conversation has yet is not found.
    /// </summary>
    public async Task<string> IdOfAsync(Caller caller, string? conversation, string? agentName, CancellationToken cancellationToken)
    {
        var target = await FindTargetAsync(caller, conversation, agentName, cancellationToken);
        return target.Existing?.Id ?? throw ApiProblem.NotFound("session", conversation ?? target.Key);
    }

    /// <summary>The target's conversation, made now if it was to be made (or read, if another request just made it).</summary>
    public async Task<ConversationRow> EnsureAsync(Caller caller, Target target, CancellationToken cancellationToken)
    {
        if (target.Existing is { } existing)
        {
            return existing;
        }
        for (var attempt = 0; ; attempt++)
        {
            var row = NewRow(caller, target.Agent, target.Key, null, null);
            try
            {
                if (await store.InsertAsync(row, cancellationToken))
                {
                    return row;
                }
            }
            catch (System.Data.Common.DbException) when (attempt == 0)
            {
                // Another request made it at the same moment (the unique index said so): read theirs.
            }
            if (await store.FindByKeyAsync(caller.WorkspaceId, target.Agent, target.Key, cancellationToken) is { } found)
            {
                return found;
            }
        }
    }

    public async Task<ConversationPage> ListAsync(Caller caller, string? agent, string? label, string? key, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var take = ConversationValidator.Limit(limit, ConversationValidator.DefaultListLimit, ConversationValidator.MaxListLimit);
        long? beforeActivity = null;
        string? beforeId = null;
        if (cursor is not null)
        {
            var parts = cursor.Split('.', 2);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                || !SortableId.IsValid(parts[1], "cnv"))
            {
                throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
            }
            (beforeActivity, beforeId) = (at, parts[1]);
        }
        var rows = await store.ListAsync(caller.WorkspaceId, new ConversationStore.ListFilter(
            agent, ConversationValidator.Label(label), ConversationValidator.Key(key), beforeActivity, beforeId, take + 1), cancellationToken);
        var page = rows.Take(take).ToList();
        var next = rows.Count > take ? string.Create(CultureInfo.InvariantCulture, $"{page[^1].LastActivityAt}.{page[^1].Id}") : null;
        return new ConversationPage([.. page.Select(row => row.ToContract())], next);
    }

    public async Task<Conversation> UpdateAsync(Caller caller, string id, UpdateConversationRequest request, CancellationToken cancellationToken)
    {
        var label = ConversationValidator.Label(request.Label);
        var thinking = ConversationValidator.Thinking(request.Thinking);
        if (!SortableId.IsValid(id, "cnv") || !await store.UpdateAsync(caller.WorkspaceId, id, label, request.Label is not null, thinking,
            request.Thinking is not null, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken))
        {
            throw ApiProblem.NotFound("conversation", id);
        }
        return await GetAsync(caller, id, cancellationToken);
    }

    public async Task<DeletedConversation> DeleteAsync(Caller caller, string id, bool deleteTranscript, CancellationToken cancellationToken)
    {
        var result = SortableId.IsValid(id, "cnv")
            ? await store.DeleteAsync(caller.WorkspaceId, id, deleteTranscript, cancellationToken)
            : ConversationStore.DeleteResult.NotFound;
        return result switch
        {
            ConversationStore.DeleteResult.NotFound => throw ApiProblem.NotFound("conversation", id),
            ConversationStore.DeleteResult.Busy => throw ApiProblem.Conflict(ConversationBusy,
                $"Conversation '{id}' has a run queued or running; abort it first (POST /v1/conversations/{id}/abort)."),
            _ => new DeletedConversation(id, deleteTranscript),
        };
    }

    public async Task<TranscriptPage> HistoryAsync(Caller caller, string id, int? limit, int? offset, CancellationToken cancellationToken)
    {
        var take = ConversationValidator.Limit(limit, ConversationValidator.DefaultHistoryLimit, ConversationValidator.MaxHistoryLimit);
        var skip = offset ?? 0;
        if (skip < 0)
        {
            throw ApiProblem.Invalid("offset", "offset must not be negative.");
        }
        _ = await RowAsync(caller, id, cancellationToken);
        var rows = await store.ReadTranscriptAsync(caller.WorkspaceId, id, skip, take + 1, cancellationToken);
        return new TranscriptPage([.. rows.Take(take).Select(row => row.ToContract())], skip, rows.Count > take);
    }

    internal async Task<ConversationRow> RowAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        (SortableId.IsValid(id, "cnv") ? await store.GetAsync(caller.WorkspaceId, id, cancellationToken) : null)
        ?? throw ApiProblem.NotFound("conversation", id);

    private async Task<string> AgentAsync(Caller caller, string? name, CancellationToken cancellationToken)
    {
        var agent = name ?? AgentDefinition.MainName;
        var directory = await agents.DirectoryAsync(caller.WorkspaceId, cancellationToken);
        return directory.FindAgent(agent) is not null
            ? agent
            : throw ApiProblem.Invalid("agent", $"There is no agent '{agent}' in this workspace (kennel agent list shows them).");
    }

    private ConversationRow NewRow(Caller caller, string agent, string? key, string? label, string? thinking)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return new ConversationRow
        {
            Id = SortableId.New("cnv", time),
            WorkspaceId = caller.WorkspaceId,
            ConversationKey = key,
            Agent = agent,
            Label = label,
            Thinking = thinking,
            CreatedAt = now,
            LastActivityAt = now,
        };
    }
}
