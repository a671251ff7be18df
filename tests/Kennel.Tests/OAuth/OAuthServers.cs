using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Servers whose codes and access tokens expire as soon as they are issued, for the expiry cases.</summary>
public sealed class ServersWithInstantExpiry() : ServersPerStore(s => s with
{
    EmbeddedWorker = false,
    OAuth = s.OAuth with { CodeLifetime = TimeSpan.Zero, AccessTokenLifetime = TimeSpan.Zero },
});

/// <summary>Servers on a clock that moves only when a test says so (throttling delays, the revoked-grant horizon).</summary>
public sealed class ServersOnAManualClock : ServersPerStore
{
    public ServersOnAManualClock()
        : this(new ManualClock(DateTimeOffset.UtcNow))
    {
    }

    private ServersOnAManualClock(ManualClock clock)
        : base(s => s with { EmbeddedWorker = false, Time = clock }) => Clock = clock;

    public ManualClock Clock { get; }
}
