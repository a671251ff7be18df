using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox;

/// <summary>
/// Keeps a few <see cref="StandbySandbox"/>es ready. A session takes one and a new one is started behind it; when none
/// is ready (a burst), the session starts its own at once rather than wait for one.
/// </summary>
internal sealed partial class StandbyPool : IAsyncDisposable
{
    private readonly Func<Task<StandbySandbox>> _start;
    private readonly int _size;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<StandbySandbox> _ready = new();
    private readonly ConcurrentDictionary<Task, byte> _filling = new();

    // Ready plus being started.
    private int _count;
    private volatile bool _disposed;

    public StandbyPool(Func<Task<StandbySandbox>> start, int size, TimeProvider time, ILogger logger)
    {
        _start = start;
        _size = size;
        _time = time;
        _logger = logger;
        Refill();
    }

    /// <summary>
    /// A ready standby, or one started now when none is. The pool starts its replacement on <see cref="Refill"/>, which
    /// the taker calls once its session has started, so the two do not compete for the CPU while it starts.
    /// </summary>
    public async Task<StandbySandbox> TakeAsync()
    {
        while (_ready.TryDequeue(out var standby))
        {
            Interlocked.Decrement(ref _count);
            if (!standby.Process.HasExited)
            {
                return standby;
            }

            // Something killed it while it waited.
            await standby.DiscardAsync(_time, _logger);
        }

        return await _start();
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await Task.WhenAll(_filling.Keys);
        while (_ready.TryDequeue(out var standby))
        {
            await standby.DiscardAsync(_time, _logger);
        }
    }

    /// <summary>Starts standbys until the pool is full again (counting those being started).</summary>
    public void Refill()
    {
        while (!_disposed)
        {
            var count = Volatile.Read(ref _count);
            if (count >= _size)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
            {
                var fill = FillOneAsync();
                _filling.TryAdd(fill, 0);
                _ = fill.ContinueWith(done => _filling.TryRemove(done, out _), TaskScheduler.Default);
            }
        }
    }

    private async Task FillOneAsync()
    {
        await Task.Yield(); // the taker goes on while this one starts
        StandbySandbox standby;
        try
        {
            standby = await _start();
        }
        catch (Exception e)
        {
            // Whatever it was, the pool must not shrink for good: the next take starts its own, reports the failure to its
            // session if it recurs, and refills again.
            Interlocked.Decrement(ref _count);
            LogFillFailed(_logger, e.Message);
            return;
        }

        _ready.Enqueue(standby);
        if (_disposed)
        {
            while (_ready.TryDequeue(out var late))
            {
                await late.DiscardAsync(_time, _logger);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start a standby sandbox: {Reason}")]
    private static partial void LogFillFailed(ILogger logger, string reason);
}
