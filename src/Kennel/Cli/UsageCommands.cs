using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Usage;

namespace Kennel.Cli;

/// <summary><c>kennel usage</c> and <c>kennel usage conversations</c>: tokens and cost of the workspace's model calls, from the ledger.</summary>
public static class UsageCommands
{
    public static Command Build()
    {
        var (period, from, to) = RangeOptions();
        var by = new Option<string?>("--by") { Description = "Group by day (default), model or agent." };
        by.AcceptOnlyFromAmong("day", "model", "agent");
        var json = CliOptions.Json();
        var usage = new Command("usage", """
            Tokens (input, output, cache read, cache write) and cost in USD of the workspace's model calls, at each call's
            prices, from the usage ledger: deleted conversations still count. Needs mcp:read.

              kennel usage                      the last 30 days by day
              kennel usage --period day --by model
              kennel usage --from 2026-11-01 --to 2026-12-01 --by agent
              kennel usage conversations --period week
            """) { period, from, to, by, json };
        usage.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = Query(parse, period, from, to, ("groupBy", parse.GetValue(by)));
            var report = await client.GetAsync($"v1/usage{query}", KennelJson.Default.UsageReport, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(report, KennelJson.Default.UsageReport);
                return ExitCodes.Ok;
            }
            var table = Table(report.GroupBy.ToUpperInvariant());
            foreach (var group in report.Groups)
            {
                Add(table, group.Key, group.Usage);
            }
            Add(table, "TOTAL", report.Total);
            table.Write(Console.Out);
            await Console.Error.WriteLineAsync(Range(report.From, report.To));
            return ExitCodes.Ok;
        });
        usage.Subcommands.Add(Conversations());
        return usage;
    }

    private static Command Conversations()
    {
        var (period, from, to) = RangeOptions();
        var conversation = new Option<string?>("--conversation") { Description = "Only this conversation (cnv_…)." };
        var limit = new Option<int?>("--limit") { Description = "Conversations to list, costliest first (1-200, default 50)." };
        var json = CliOptions.Json();
        var command = new Command("conversations", "Tokens and cost per conversation in the range, costliest first. Needs mcp:read.")
        {
            period, from, to, conversation, limit, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = Query(parse, period, from, to, ("conversationId", parse.GetValue(conversation)),
                ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)));
            var report = await client.GetAsync($"v1/usage/conversations{query}", KennelJson.Default.ConversationUsageReport, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(report, KennelJson.Default.ConversationUsageReport);
                return ExitCodes.Ok;
            }
            var table = Table("CONVERSATION");
            foreach (var item in report.Conversations)
            {
                Add(table, item.ConversationId, item.Usage);
            }
            Add(table, "TOTAL", report.Total);
            table.Write(Console.Out);
            await Console.Error.WriteLineAsync(Range(report.From, report.To) + (report.More ? "; more conversations: raise --limit" : ""));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (Option<string?> Period, Option<string?> From, Option<string?> To) RangeOptions()
    {
        var period = new Option<string?>("--period") { Description = "day (since midnight UTC), week or month (the last 7 or 30 UTC days)." };
        period.AcceptOnlyFromAmong("day", "week", "month");
        var from = new Option<string?>("--from") { Description = "Start: a date (2026-11-01, UTC) or an RFC 3339 time. Default: 30 days before --to." };
        var to = new Option<string?>("--to") { Description = "End, excluded: a date or an RFC 3339 time. Default: now." };
        return (period, from, to);
    }

    private static string Query(ParseResult parse, Option<string?> period, Option<string?> from, Option<string?> to, params (string Name, string? Value)[] more) =>
        CliOptions.Query([("period", parse.GetValue(period)), ("from", parse.GetValue(from)), ("to", parse.GetValue(to)), .. more]);

    private static Table Table(string first) => new(first, "CALLS", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST USD");

    private static void Add(Table table, string key, UsageTotals usage) => table.Add(key, Number(usage.Calls), Number(usage.InputTokens),
        Number(usage.OutputTokens), Number(usage.CacheReadTokens), Number(usage.CacheWriteTokens), usage.CostUsd.ToString("0.000000", CultureInfo.InvariantCulture));

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Range(DateTimeOffset from, DateTimeOffset to) =>
        string.Create(CultureInfo.InvariantCulture, $"{from:yyyy-MM-dd HH:mm} to {to:yyyy-MM-dd HH:mm} UTC");
}
