using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A startup hook (<c>DOTNET_STARTUP_HOOKS</c> naming Kennel.Bench.dll) that <c>mcp serve-cpu</c> puts into the
/// <c>kennel serve</c> processes it measures: on <c>BENCH_STATS_PORT</c> (loopback) each connection is answered with the
/// process's bytes allocated so far and thread-pool work items completed, as the floor's <c>/stats</c> route does, so
/// that the real endpoint's figures that do not depend on the machine's load can be read too, with no change to Kennel.
/// </summary>
#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name, outside any namespace.
internal static class StartupHook
#pragma warning restore CA1050
{
    public const string PortVariable = "BENCH_STATS_PORT";

    public static void Initialize()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(PortVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return;
        }
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        new Thread(() =>
        {
            while (true)
            {
                using var client = listener.AcceptTcpClient();
                var stats = string.Create(CultureInfo.InvariantCulture, $"{GC.GetTotalAllocatedBytes(true)} {ThreadPool.CompletedWorkItemCount}\n");
                client.GetStream().Write(Encoding.ASCII.GetBytes(stats));
            }
        })
        { IsBackground = true, Name = "bench stats" }.Start();
    }

    /// <summary>Reads the figures of the process listening on <paramref name="port"/>.</summary>
    public static async Task<(long Bytes, long Items)> ReadAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        var parts = (await reader.ReadLineAsync())!.Split(' ');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
