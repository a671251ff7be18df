using Kennel.Testing;

namespace Kennel.Tests.Daemons;

/// <summary>
/// Servers on a manual clock that remember webhook deliveries for 10 minutes, so a test can pass the replay window
/// without the clock running the server's periodic work through days.
/// </summary>
public sealed class ServersWithAShortReplayWindow : ServersPerStore
{
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(10);

    public ServersWithAShortReplayWindow()
        : this(new ManualClock(DateTimeOffset.UtcNow))
    {
    }

    private ServersWithAShortReplayWindow(ManualClock clock)
        : base(s => s with { EmbeddedWorker = false, Time = clock, Daemons = s.Daemons with { WebhookReplayWindow = ReplayWindow } }) => Clock = clock;

    public ManualClock Clock { get; }
}
