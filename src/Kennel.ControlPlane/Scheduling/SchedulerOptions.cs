namespace Kennel.ControlPlane.Scheduling;

/// <summary>Tunables of the scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>
    /// The longest the scheduler sleeps before it looks at the store again, so a schedule that another replica created or
    /// changed fires on time. A schedule created on this replica wakes it at once.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A run more than this late is a missed run: it fires as a catch-up (or not at all) by its schedule's policy. So is
    /// every due run before the latest, however late.
    /// </summary>
    public TimeSpan MisfireThreshold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many due schedules one transaction fires.</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>How many such transactions run at once on PostgreSQL (SQLite has one writer).</summary>
    public int PostgresLanes { get; init; } = 4;

    /// <summary>How long the history of fired runs is kept.</summary>
    public TimeSpan RunHistory { get; init; } = TimeSpan.FromDays(7);
}
