using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using Kennel.Contracts.Cron;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;

namespace Kennel.ControlPlane.Cron;

/// <summary>A job checked whole, with its defaults filled in, and its schedule as the scheduler stores it.</summary>
public sealed record ValidCronJob(
    string Name, string? Description, string? Agent, bool Enabled, CronSchedule Schedule, ScheduleDefinitionText ScheduleText,
    CronPayload Payload, ValidSessionRequest? Workload, CronDelivery Delivery, long TimeoutMs, long? TokenBudget, string Overlap, bool DeleteAfterRun);

/// <summary>A schedule in the scheduler's terms: the expression text and its time zone.</summary>
public sealed record ScheduleDefinitionText(string Expression, string Timezone);

/// <summary>Checks every field of a cron job at the edge. A failure names the field and says what is allowed.</summary>
public static partial class CronValidator
{
    public static ValidCronJob Validate(CreateCronJobRequest request, SnapshotCatalog snapshots, DateTimeOffset now)
    {
        var name = request.Name;
        if (name is null || !NamePattern().IsMatch(name) || name.StartsWith("cron_", StringComparison.Ordinal))
        {
            throw ApiProblem.Invalid("name",
                $"name is required: 1-{CronValues.MaxNameLength} characters of a-z, 0-9, '-' and '_', starting with a letter or digit (and not with cron_).");
        }
        if (request.Description is { Length: > CronValues.MaxDescriptionLength })
        {
            throw ApiProblem.Invalid("description", $"description must be at most {CronValues.MaxDescriptionLength} characters.");
        }
        var (schedule, text) = ValidateSchedule(request.Schedule, now);
        var payload = request.Payload ?? throw ApiProblem.Invalid("payload",
            "payload is required: {kind: \"agentTurn\", message, conversation?} or {kind: \"workload\", script or command, snapshot?, env?, secrets?}.");
        var timeoutSeconds = request.Limits?.TimeoutSeconds ?? CronValues.DefaultTimeoutSeconds;
        if (timeoutSeconds is < CronValues.MinTimeoutSeconds or > CronValues.MaxTimeoutSeconds)
        {
            throw ApiProblem.Invalid("limits.timeoutSeconds", $"limits.timeoutSeconds must be between {CronValues.MinTimeoutSeconds} and {CronValues.MaxTimeoutSeconds}.");
        }
        var budget = request.Limits?.TokenBudget;
        if (budget is < 1 or > CronValues.MaxTokenBudget)
        {
            throw ApiProblem.Invalid("limits.tokenBudget", $"limits.tokenBudget must be between 1 and {CronValues.MaxTokenBudget} tokens.");
        }
        string? agent = null;
        ValidSessionRequest? workload = null;
        switch (payload.Kind)
        {
            case CronValues.AgentTurn:
                agent = ValidateAgentName(request.Agent);
                payload = ValidateAgentTurn(payload);
                break;
            case CronValues.Workload:
                if (budget is not null)
                {
                    throw ApiProblem.Invalid("limits.tokenBudget", "limits.tokenBudget bounds an agent turn; a workload has no tokens to count.");
                }
                agent = request.Agent is null ? null : ValidateAgentName(request.Agent);
                (payload, workload) = ValidateWorkload(payload, timeoutSeconds, snapshots);
                break;
            default:
                throw ApiProblem.Invalid("payload.kind", "payload.kind must be agentTurn or workload.");
        }
        var overlap = request.Overlap ?? CronValues.Skip;
        if (overlap is not (CronValues.Skip or CronValues.Queue))
        {
            throw ApiProblem.Invalid("overlap", "overlap must be skip (a run falling due while the last is going is recorded as skipped) or queue (it waits its turn).");
        }
        var deleteAfterRun = request.DeleteAfterRun ?? false;
        if (deleteAfterRun && schedule.Kind != CronValues.KindAt)
        {
            throw ApiProblem.Invalid("deleteAfterRun", "deleteAfterRun applies to an at job only.");
        }
        return new ValidCronJob(name, request.Description, agent, request.Enabled ?? true, schedule, text, payload, workload,
            ValidateDelivery(request.Delivery), timeoutSeconds * 1000L, budget, overlap, deleteAfterRun);
    }

    private static (CronSchedule, ScheduleDefinitionText) ValidateSchedule(CronSchedule? schedule, DateTimeOffset now)
    {
        if (schedule is null)
        {
            throw ApiProblem.Invalid("schedule", "schedule is required: {kind: \"cron\", expr, tz?}, {kind: \"at\", at} or {kind: \"every\", every}.");
        }
        switch (schedule.Kind)
        {
            case CronValues.KindCron:
                Refuse(schedule.At ?? schedule.Every ?? (object?)schedule.EveryMs, "schedule.at", "at and every belong to other kinds of schedule.");
                var (cron, timezone) = ScheduleValidation.Cron(schedule.Expr, schedule.Tz, "schedule.expr", "schedule.tz");
                return (new CronSchedule { Kind = CronValues.KindCron, Expr = cron, Tz = timezone }, new ScheduleDefinitionText(cron, timezone));
            case CronValues.KindAt:
                Refuse(schedule.Expr ?? schedule.Tz ?? schedule.Every ?? (object?)schedule.EveryMs, "schedule.expr", "expr, tz and every belong to other kinds of schedule.");
                var at = ParseInstant(schedule.At);
                if (at <= now)
                {
                    throw ApiProblem.Invalid("schedule.at", $"schedule.at is in the past ({at:O}); give a time after now ({now:O}).");
                }
                return (new CronSchedule { Kind = CronValues.KindAt, At = at.ToString("O", CultureInfo.InvariantCulture) },
                    new ScheduleDefinitionText(OneTime.Format(at), Schedules.DefaultTimezone));
            case CronValues.KindEvery:
                Refuse(schedule.Expr ?? schedule.Tz ?? schedule.At, "schedule.expr", "expr, tz and at belong to other kinds of schedule.");
                var interval = ParseInterval(schedule);
                var anchor = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
                return (new CronSchedule { Kind = CronValues.KindEvery, Every = Describe(interval), EveryMs = (long)interval.TotalMilliseconds, Anchor = anchor },
                    new ScheduleDefinitionText(FixedInterval.Format(interval, anchor), Schedules.DefaultTimezone));
            default:
                throw ApiProblem.Invalid("schedule.kind", "schedule.kind must be cron, at or every.");
        }
    }

    private static void Refuse(object? present, string field, string why)
    {
        if (present is not null)
        {
            throw ApiProblem.Invalid(field, why);
        }
    }

    private static DateTimeOffset ParseInstant(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            throw ApiProblem.Invalid("schedule.at", "schedule.at is required: an ISO 8601 time such as 2026-12-24T15:00:00Z (UTC when no offset is given).");
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw ApiProblem.Invalid("schedule.at", $"'{text}' is not an ISO 8601 time; give one such as 2026-12-24T15:00:00Z.");
    }

    private static TimeSpan ParseInterval(CronSchedule schedule)
    {
        TimeSpan interval;
        if (schedule.EveryMs is { } ms)
        {
            if (schedule.Every is not null)
            {
                throw ApiProblem.Invalid("schedule.every", "Give schedule.every or schedule.everyMs, not both.");
            }
            interval = ms is > 0 and <= 366L * 86_400_000 ? TimeSpan.FromMilliseconds(ms)
                : throw ApiProblem.Invalid("schedule.everyMs", "schedule.everyMs must be a positive number of milliseconds, at most a year.");
        }
        else
        {
            interval = ParseDuration(schedule.Every) ?? throw ApiProblem.Invalid("schedule.every",
                "schedule.every is required: a duration such as 30m, 1h30m, 2h, 1d or PT30M.");
        }
        if (interval < CronValues.MinInterval || interval > CronValues.MaxInterval)
        {
            throw ApiProblem.Invalid(schedule.EveryMs is null ? "schedule.every" : "schedule.everyMs",
                "The interval must be at least 1 minute and at most 366 days.");
        }
        return interval;
    }

    /// <summary>A duration written as <c>1d2h30m15s</c> (any of the parts, in that order) or ISO 8601 (<c>PT30M</c>), or null.</summary>
    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 32)
        {
            return null;
        }
        if (text.StartsWith('P'))
        {
            try
            {
                return XmlConvert.ToTimeSpan(text);
            }
            catch (FormatException)
            {
                return null;
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        var match = DurationPattern().Match(text);
        if (!match.Success || match.Length == 0)
        {
            return null;
        }
        long Part(string group) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = Part("d") * 86_400 + Part("h") * 3600 + Part("m") * 60 + Part("s");
        return seconds is > 0 and < 100L * 365 * 86_400 ? TimeSpan.FromSeconds(seconds) : null;
    }

    private static string Describe(TimeSpan interval)
    {
        var parts = new List<string>(4);
        if (interval.Days > 0)
        {
            parts.Add($"{interval.Days}d");
        }
        if (interval.Hours > 0)
        {
            parts.Add($"{interval.Hours}h");
        }
        if (interval.Minutes > 0)
        {
            parts.Add($"{interval.Minutes}m");
        }
        if (interval.Seconds > 0 || parts.Count == 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{interval.Seconds + interval.Milliseconds / 1000.0:0.###}s"));
        }
        return string.Concat(parts);
    }

    private static string ValidateAgentName(string? agent) =>
        agent is { Length: > 0 and <= 64 }
            ? agent
            : throw ApiProblem.Invalid("agent", "agent is required for an agentTurn payload: the name of one of the workspace's agents (agents_list shows them).");

    private static CronPayload ValidateAgentTurn(CronPayload payload)
    {
        if (payload.Script is not null || payload.Command is not null || payload.Snapshot is not null || payload.Env is not null || payload.Secrets is not null
            || payload.Resources is not null)
        {
            throw ApiProblem.Invalid("payload.kind", "script, command, snapshot, env, secrets and resources belong to a workload payload, not an agentTurn.");
        }
        if (string.IsNullOrWhiteSpace(payload.Message) || payload.Message.Length > CronValues.MaxMessageLength)
        {
            throw ApiProblem.Invalid("payload.message", $"payload.message is required: what to say to the agent, 1-{CronValues.MaxMessageLength} characters.");
        }
        var key = Conversations.ConversationValidator.Key(payload.Conversation, "payload.conversation");
        return new CronPayload { Kind = CronValues.AgentTurn, Message = payload.Message, Conversation = key };
    }

    private static (CronPayload, ValidSessionRequest) ValidateWorkload(CronPayload payload, int timeoutSeconds, SnapshotCatalog snapshots)
    {
        if (payload.Message is not null || payload.Conversation is not null)
        {
            throw ApiProblem.Invalid("payload.kind", "message and conversation belong to an agentTurn payload, not a workload.");
        }
        ValidSessionRequest valid;
        try
        {
            valid = CreateSessionValidator.Validate(SessionRequest(payload, timeoutSeconds * 1000L), snapshots);
        }
        catch (ApiProblem problem) when (problem.Field is { } field)
        {
            throw new ApiProblem(problem.Status, problem.Code, problem.Title, problem.Detail, field == "timeoutMs" ? "limits.timeoutSeconds" : $"payload.{field}");
        }
        return (payload with { Snapshot = valid.Snapshot }, valid);
    }

    /// <summary>A workload payload as the session it runs: checked with it when the job is added, and again when a run starts.</summary>
    public static CreateSessionRequest SessionRequest(CronPayload payload, long timeoutMs) => new()
    {
        Snapshot = payload.Snapshot,
        Script = payload.Script,
        Command = payload.Command,
        Env = payload.Env,
        Secrets = payload.Secrets,
        TimeoutMs = timeoutMs,
        Resources = payload.Resources,
    };

    private static CronDelivery ValidateDelivery(CronDelivery? delivery)
    {
        switch (delivery?.Mode ?? CronValues.DeliveryNone)
        {
            case CronValues.DeliveryNone:
                Refuse(delivery?.Url, "delivery.url", "delivery.url belongs to a webhook delivery.");
                Refuse(delivery?.Channel ?? delivery?.Chat ?? delivery?.Thread, "delivery.channel", "delivery.channel, chat and thread belong to a channel delivery.");
                return new CronDelivery { Mode = CronValues.DeliveryNone };
            case CronValues.DeliveryWebhook:
                Refuse(delivery!.Channel ?? delivery.Chat ?? delivery.Thread, "delivery.channel", "delivery.channel, chat and thread belong to a channel delivery.");
                return new CronDelivery { Mode = CronValues.DeliveryWebhook, Url = ValidateUrl(delivery.Url) };
            case CronValues.DeliveryChannel:
                Refuse(delivery!.Url, "delivery.url", "delivery.url belongs to a webhook delivery.");
                return new CronDelivery
                {
                    Mode = CronValues.DeliveryChannel,
                    Channel = delivery.Channel is { } channel && ChannelName().IsMatch(channel)
                        ? channel
                        : throw ApiProblem.Invalid("delivery.channel", "delivery.channel is required: the name of one of the workspace's channels."),
                    Chat = PlatformId(delivery.Chat, "delivery.chat") ?? throw ApiProblem.Invalid("delivery.chat", "delivery.chat is required: the platform's id of the chat."),
                    Thread = PlatformId(delivery.Thread, "delivery.thread"),
                };
            default:
                throw ApiProblem.Invalid("delivery.mode", "delivery.mode must be none, webhook or channel.");
        }
    }

    private static string? PlatformId(string? id, string field) =>
        id is null ? null
        : id.Length is 0 or > Channels.ChannelService.MaxIdLength || id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? throw ApiProblem.Invalid(field, $"{field} must be 1-{Channels.ChannelService.MaxIdLength} characters without spaces: the platform's own id.")
            : id;

    private static string ValidateUrl(string? url) => Delivery.OutboundUrl.Validate(url) is { } error
        ? throw ApiProblem.Invalid("delivery.url", $"delivery.url: {error}")
        : url!;

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    private static partial Regex ChannelName();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(?:(?<d>\d{1,5})d)?(?:(?<h>\d{1,6})h)?(?:(?<m>\d{1,7})m)?(?:(?<s>\d{1,9})s)?$")]
    private static partial Regex DurationPattern();
}
