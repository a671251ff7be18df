namespace Kennel.Testing;

/// <summary>
/// A <see cref="TimeProvider"/> that moves only when a test says so. Timers (and so <c>Task.Delay</c>,
/// <c>WaitAsync</c> and <c>PeriodicTimer</c> on this provider) fire as the clock passes their due time.
/// </summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private readonly List<Timer> timers = [];
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by) => SetUtcNow(GetUtcNow() + by);

    /// <summary>Moves the clock to <paramref name="value"/> (never backwards), firing every timer due by then.</summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (gate)
        {
            if (value < now)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "The clock does not go backwards.");
            }
            now = value;
        }
        while (true)
        {
            Timer? due;
            lock (gate)
            {
                due = timers.Where(t => t.DueAt <= now).MinBy(t => t.DueAt);
                if (due is null)
                {
                    return;
                }
                if (due.Period > TimeSpan.Zero)
                {
                    due.DueAt += due.Period;
                }
                else
                {
                    timers.Remove(due);
                }
            }
            due.Fire();
        }
    }

    private sealed class Timer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; }
        public TimeSpan Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }
                DueAt = clock.now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                clock.timers.Add(this);
            }
            if (dueTime <= TimeSpan.Zero)
            {
                clock.SetUtcNow(clock.GetUtcNow());
            }
            return true;
        }

        public void Dispose()
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
