namespace Kennel.ControlPlane.Cron;

/// <summary>The words of a cron job and its runs, and their bounds.</summary>
public static class CronValues
{
    public const string KindCron = "cron";
    public const string KindAt = "at";
    public const string KindEvery = "every";

    public const string AgentTurn = "agentTurn";
    public const string Workload = "workload";

    public const string DeliveryNone = "none";
    public const string DeliveryWebhook = "webhook";
    public const string DeliveryChannel = "channel";

    public const string Skip = "skip";
    public const string Queue = "queue";

    public const string TriggerSchedule = "schedule";
    public const string TriggerCatchUp = "catch_up";
    public const string TriggerManual = "manual";

    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string BudgetExceeded = "budget_exceeded";
    public const string Cancelled = "cancelled";
    public const string Skipped = "skipped";

    /// <summary>The error code of an agent run stopped by its token budget.</summary>
    public const string TokenBudgetExceeded = Kennel.Agents.Runtime.TurnLimitException.TokenBudgetExceeded;

    public static readonly string[] RunStatuses = [Queued, Running, Succeeded, Failed, TimedOut, BudgetExceeded, Cancelled, Skipped];

    /// <summary>The SQL list of the statuses of a run not yet ended.</summary>
    public const string Live = "('queued', 'running')";

    public const int MaxNameLength = 63;
    public const int MaxDescriptionLength = 1024;
    public const int MaxMessageLength = 32_000;
    public const int MaxUrlLength = 2048;
    public const int MaxJobsPerWorkspace = 10_000;
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(366);
    public const int DefaultTimeoutSeconds = 600;
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 86_400;
    public const long MaxTokenBudget = 100_000_000;

    /// <summary>
    /// How long an ended run stays in the history. Then it is deleted, with the fresh conversation its isolated agent turn
    /// used (transcript and run); its cost stays in the usage ledger.
    /// </summary>
    public static readonly TimeSpan RunHistory = TimeSpan.FromDays(30);

    /// <summary>How long a job waits after each consecutive failure before its runs fire again: 30 s, 1 min, 5 min, 15 min, then 60 min.</summary>
    public static readonly TimeSpan[] Backoff =
        [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(60)];

    public static TimeSpan BackoffAfter(long consecutiveErrors) => Backoff[(int)Math.Clamp(consecutiveErrors - 1, 0, Backoff.Length - 1)];

    public static bool IsFailure(string status) => status is Failed or TimedOut or BudgetExceeded;
}
