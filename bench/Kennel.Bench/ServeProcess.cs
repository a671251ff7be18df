using System.Diagnostics;
using System.Globalization;

namespace Kennel.Bench;

/// <summary>A real <c>kennel serve</c> process, built beside this benchmark.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process process;
    private volatile bool listening;

    private ServeProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true)
            {
                listening = true;
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static ServeProcess Start(IReadOnlyDictionary<string, string> env)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kennel.dll"));
        info.ArgumentList.Add("serve");
        foreach (var (name, value) in env)
        {
            info.Environment[name] = value;
        }
        return new ServeProcess(Process.Start(info)!);
    }

    public async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!listening)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("kennel serve did not start");
            }
            await Task.Delay(20);
        }
    }

    public int Id => process.Id;

    /// <summary>CPU time (user + system) the process has used so far, from /proc.</summary>
    public TimeSpan CpuTime()
    {
        // Fields 14 and 15 of /proc/PID/stat, counted after the parenthesised command name, in clock ticks (USER_HZ, 100 on Linux).
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public double RssMegabytes()
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    public async Task StopAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public void Dispose() => process.Dispose();
}
