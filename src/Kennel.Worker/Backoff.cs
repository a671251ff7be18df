namespace Kennel.Worker;

/// <summary>Retry delays: 100 ms doubling to a 5 s ceiling, with jitter so a fleet does not retry in lockstep.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempt)
    {
        var ms = Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt, 10)));
        return TimeSpan.FromMilliseconds(ms * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}
