using System.Globalization;
using System.Threading.Channels;
using Kennel.ControlPlane.Hosting;
using Kennel.Testing;

namespace Kennel.Tests.Units;

/// <summary>
/// An idle server hands its garbage back once a minute; a busy one (which collects by itself) and one with almost
/// nothing to hand back are left alone.
/// </summary>
public sealed class IdleTrimTests : IAsyncDisposable
{
    private readonly ManualClock clock = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z", CultureInfo.InvariantCulture));
    private readonly Channel<string> events = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource stopping = new();
    private int collections;
    private long allocated;
    private Task? loop;

    [Fact]
    public async Task The_first_trim_comes_three_seconds_after_start_and_then_one_a_minute_while_quiet()
    {
        Start();
        clock.Advance(IdleTrim.First - TimeSpan.FromMilliseconds(1));
        events.Reader.TryRead(out _).ShouldBeFalse();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await NextTwo()).ShouldBe(["trim", "read"]);

        allocated += 4 << 20; // a quiet minute of polling
        (await Tick(trims: true)).ShouldBe(["read", "trim", "read"]);
        allocated += 4 << 20;
        (await Tick(trims: true)).ShouldBe(["read", "trim", "read"]);
    }

    [Fact]
    public async Task A_server_that_collected_by_itself_is_not_paused_however_much_it_allocated()
    {
        Start();
        clock.Advance(IdleTrim.First);
        (await NextTwo()).ShouldBe(["trim", "read"]);

        collections += 3;
        allocated += 500 << 20;
        (await Tick(trims: false)).ShouldBe(["read"]);
        // The next minute is quiet again: the garbage since the last look is what counts.
        allocated += 2 << 20;
        (await Tick(trims: true)).ShouldBe(["read", "trim", "read"]);
    }

    [Fact]
    public async Task Less_than_a_megabyte_of_garbage_is_not_worth_a_pause()
    {
        Start();
        clock.Advance(IdleTrim.First);
        (await NextTwo()).ShouldBe(["trim", "read"]);

        allocated += 200 << 10;
        (await Tick(trims: false)).ShouldBe(["read"]);
        allocated += 900 << 10; // 1.1 MB since the last trim, over two minutes
        (await Tick(trims: true)).ShouldBe(["read", "trim", "read"]);
    }

    [Fact]
    public async Task Stopping_ends_the_loop_at_once()
    {
        Start();
        clock.Advance(IdleTrim.First);
        (await NextTwo()).ShouldBe(["trim", "read"]);
        await stopping.CancelAsync();
        await loop!.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }
        stopping.Dispose();
    }

    private void Start() => loop = IdleTrim.RunAsync(
        clock,
        () => events.Writer.TryWrite("trim"),
        () =>
        {
            events.Writer.TryWrite("read");
            return new IdleTrim.GcCounts(collections, allocated);
        },
        stopping.Token);

    private async Task<string[]> NextTwo() => [await Next(), await Next()];

    // One minute passes: the loop reads the counts, maybe trims and reads again, then waits for the next tick. A trim
    // that is expected is awaited; one that is not gets a moment to show up wrongly.
    private async Task<string[]> Tick(bool trims)
    {
        clock.Advance(IdleTrim.Interval);
        List<string> seen = [await Next()];
        if (trims)
        {
            seen.Add(await Next());
            seen.Add(await Next());
        }
        else
        {
            await Task.Delay(100);
        }
        while (events.Reader.TryRead(out var next))
        {
            seen.Add(next);
        }
        return [.. seen];
    }

    private async Task<string> Next() => await events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}
