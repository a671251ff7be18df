namespace Kennel.Sandbox.Network;

/// <summary>One sandbox as the proxy sees it: its policy, its counters, and a signal that ends its connections.</summary>
internal sealed class EgressSession(EgressPolicy policy) : IDisposable
{
    public const int MaxRefusals = 100;

    private readonly CancellationTokenSource _closed = new();
    private readonly List<EgressRefusal> _refusals = [];
    private long _bytesIn;
    private long _bytesOut;
    private int _refused;

    public EgressPolicy Policy { get; } = policy;

    /// <summary>Cancelled when the sandbox ends or its byte cap is reached: every connection of it closes.</summary>
    public CancellationToken Closed => _closed.Token;

    public bool OverCap => Policy.ByteCap is { } cap && Interlocked.Read(ref _bytesIn) + Interlocked.Read(ref _bytesOut) >= cap;

    public void AddIn(int bytes) => Add(ref _bytesIn, bytes);

    public void AddOut(int bytes) => Add(ref _bytesOut, bytes);

    public void Refuse(string host, int port, string rule)
    {
        Interlocked.Increment(ref _refused);
        var refusal = new EgressRefusal(host, port, rule);
        lock (_refusals)
        {
            if (_refusals.Count < MaxRefusals && !_refusals.Contains(refusal))
            {
                _refusals.Add(refusal);
            }
        }
    }

    public EgressUsage Usage()
    {
        lock (_refusals)
        {
            return new EgressUsage(Interlocked.Read(ref _bytesIn), Interlocked.Read(ref _bytesOut), Volatile.Read(ref _refused), [.. _refusals]);
        }
    }

    public void Close() => _closed.Cancel();

    public void Dispose() => _closed.Dispose();

    private void Add(ref long counter, int bytes)
    {
        Interlocked.Add(ref counter, bytes);
        if (OverCap)
        {
            _closed.Cancel();
        }
    }
}
