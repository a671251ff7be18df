using Kennel.ControlPlane.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Units;

/// <summary>The in-process wake-ups hold only recent waits, however many runs and sessions there were.</summary>
public sealed class ChangeSignalTests
{
    [Fact]
    public async Task The_task_a_waiter_took_after_the_last_pulse_is_dropped_and_completed_once_it_is_older_than_the_max_age()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var signal = new ChangeSignal(clock);
        // Each of 1,000 waits takes a task, sees its run ended, and returns: nothing pulses these again.
        var leftovers = Enumerable.Range(0, 1_000).Select(i => signal.RunChanged($"run_{i:D4}")).ToList();
        signal.Held.ShouldBe(1_000);

        clock.Advance(ChangeSignal.MaxAge / 2);
        var recent = signal.SessionChanged("ses_recent");
        signal.Held.ShouldBe(1_001);

        clock.Advance((ChangeSignal.MaxAge / 2) + TimeSpan.FromSeconds(1));
        var next = signal.RunChanged("run_next");

        signal.Held.ShouldBe(2); // the recent one and the new one
        await Task.WhenAll(leftovers); // a waiter still holding one looks at the store again
        recent.IsCompleted.ShouldBeFalse();
        next.IsCompleted.ShouldBeFalse();
        signal.PulseSession("ses_recent");
        await recent;
        signal.RunChanged("run_next").ShouldBeSameAs(next);
    }
}
