using System.Globalization;
using Kennel.Contracts.Usage;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Usage;

/// <summary>
/// Usage and cost from the ledger, for <c>/v1/usage</c>, <c>kennel usage</c>, and the agent endpoint's
/// <c>usage_cost</c> and <c>sessions_usage</c>. A range is a <c>period</c> ending now (<c>day</c>: since midnight UTC;
/// <c>week</c> and <c>month</c>: the last 7 and 30 UTC days, today included) or <c>from</c>/<c>to</c> ([from, to), at
/// most 366 days); bad input is a 400 naming its field.
/// </summary>
public sealed class UsageService(UsageStore store, TimeProvider time)
{
    public const string ByDay = "day";
    public const string ByModel = "model";
    public const string ByAgent = "agent";
    public const string Day = "day";
    public const string Week = "week";
    public const string Month = "month";
    public const int MaxConversations = 200;
    public const int DefaultConversations = 50;
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public async Task<UsageReport> CostAsync(Caller caller, string? period, string? from, string? to, string? groupBy, CancellationToken cancellationToken)
    {
        var (start, end) = Range(period, from, to);
        var group = groupBy ?? ByDay;
        if (group is not (ByDay or ByModel or ByAgent))
        {
            throw ApiProblem.Invalid("groupBy", "groupBy must be day, model or agent.");
        }
        var rows = await store.SumAsync(caller.WorkspaceId, start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(), group, cancellationToken);
        return new UsageReport
        {
            From = start,
            To = end,
            GroupBy = group,
            Total = Totals(rows),
            Groups = [.. rows.Select(row => new UsageGroup { Key = Key(row.Grp, group), Usage = Totals([row]) })],
        };
    }

    public async Task<ConversationUsageReport> ConversationsAsync(Caller caller, string? period, string? from, string? to, string? conversationId,
        int? limit, CancellationToken cancellationToken)
    {
        var (start, end) = Range(period, from, to);
        if (limit is < 1 or > MaxConversations)
        {
            throw ApiProblem.Invalid("limit", $"limit must be 1 to {MaxConversations}.");
        }
        if (conversationId is { } id && (id.Length is 0 or > 100 || id.Any(char.IsControl)))
        {
            throw ApiProblem.Invalid("conversationId", "conversationId must be a conversation id (cnv_…) of at most 100 characters.");
        }
        var take = limit ?? DefaultConversations;
        var (rows, total) = await store.ConversationsAsync(caller.WorkspaceId, start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(),
            conversationId, take, cancellationToken);
        return new ConversationUsageReport
        {
            From = start,
            To = end,
            Total = Totals([total]),
            Conversations = [.. rows.Take(take).Select(row => new ConversationUsage
            {
                ConversationId = (string)row.Grp!,
                FirstCallAt = DateTimeOffset.FromUnixTimeMilliseconds(row.FirstAt),
                LastCallAt = DateTimeOffset.FromUnixTimeMilliseconds(row.LastAt),
                Usage = Totals([row]),
            })],
            More = rows.Count > take,
        };
    }

    /// <summary>[start, end) of a period ending now, or of from/to.</summary>
    public (DateTimeOffset Start, DateTimeOffset End) Range(string? period, string? from, string? to)
    {
        var now = time.GetUtcNow();
        if (period is not null)
        {
            if (from is not null || to is not null)
            {
                throw ApiProblem.Invalid("period", "Give period or from/to, not both.");
            }
            var days = period switch
            {
                Day => 1,
                Week => 7,
                Month => 30,
                _ => throw ApiProblem.Invalid("period", "period must be day, week or month."),
            };
            var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
            return (today.AddDays(1 - days), now);
        }
        var end = Instants.Parse("to", to) ?? now;
        var start = Instants.Parse("from", from) ?? end - TimeSpan.FromDays(30);
        if (start >= end || end - start > MaxRange)
        {
            throw ApiProblem.Invalid("from", $"from must be before to, and at most {MaxRange.TotalDays} days before it.");
        }
        return (start, end);
    }

    private static string Key(object? group, string groupBy) => groupBy == ByDay
        ? Instants.Day(Convert.ToInt64(group, CultureInfo.InvariantCulture))
        : Convert.ToString(group, CultureInfo.InvariantCulture) ?? "";

    private static UsageTotals Totals(IReadOnlyCollection<UsageStore.UsageRow> rows) => new()
    {
        Calls = rows.Sum(row => row.Calls),
        InputTokens = rows.Sum(row => row.Input),
        OutputTokens = rows.Sum(row => row.Output),
        CacheReadTokens = rows.Sum(row => row.CacheRead),
        CacheWriteTokens = rows.Sum(row => row.CacheWrite),
        CostUsd = rows.Sum(row => row.CostNanoUsd) / 1_000_000_000m,
    };
}
