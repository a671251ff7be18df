using System.Diagnostics;
using Kennel.ControlPlane.OAuth;
using Kennel.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Bench;

/// <summary>
/// Part of <c>scripts/bench.sh oauth</c>: what <see cref="AccessTokens.ValidateAsync"/> costs alone, with no HTTP around
/// it, on an in-process control plane (SQLite, no worker): the same service and key cache the bearer handler calls on each
/// MCP request, validating one real access token for its audience.
/// </summary>
internal static class TokenValidationBench
{
    public sealed record Result(double P50Microseconds, double P99Microseconds, double PerSecondOneThread, double PerSecondAllCores, double BytesPerValidation);

    public static async Task<Result> RunAsync(int samples, TimeSpan concurrentFor)
    {
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false });
        var tokens = server.Server.Services.GetRequiredService<AccessTokens>();
        var audience = new Uri(server.Url, "/mcp").ToString();
        var token = await tokens.IssueAsync(new GrantRow
        {
            Id = "grt_bench",
            ClientId = "mcp_bench",
            UserId = "usr_bench",
            WorkspaceId = "ws_default",
            WorkspaceName = "default",
            Resource = audience,
            Scope = "mcp:read mcp:chat",
        }, CancellationToken.None);

        async Task ValidateAsync()
        {
            if ((await tokens.ValidateAsync(token, audience, CancellationToken.None)).Caller is null)
            {
                throw new InvalidOperationException("The benchmark's token did not validate.");
            }
        }

        for (var i = 0; i < samples / 4; i++)
        {
            await ValidateAsync();
        }
        var times = new double[samples];
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < samples; i++)
        {
            var begin = Stopwatch.GetTimestamp();
            await ValidateAsync();
            times[i] = Stopwatch.GetElapsedTime(begin).TotalMicroseconds;
        }
        var oneThread = samples / Stopwatch.GetElapsedTime(started).TotalSeconds;
        // The whole process's allocations, the idle server's background loops included: a little above the token check's own.
        var bytesPerValidation = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)samples;
        Array.Sort(times);

        var stop = Stopwatch.GetTimestamp() + (long)(concurrentFor.TotalSeconds * Stopwatch.Frequency);
        var counts = await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(async () =>
        {
            var count = 0L;
            while (Stopwatch.GetTimestamp() < stop)
            {
                await ValidateAsync();
                count++;
            }
            return count;
        })));
        return new Result(times[samples / 2], times[(int)(samples * 0.99)], oneThread, counts.Sum() / concurrentFor.TotalSeconds, bytesPerValidation);
    }
}
