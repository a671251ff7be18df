using System.Diagnostics;
using System.Globalization;

namespace Kennel.Bench;

/// <summary>A real <c>kennel serve</c> process, built beside this benchmark.</summary>
internal sealed class ServeProcess : IDisposable
{
    private const int KeptLines = 40;
    private readonly Process process;
    private readonly Queue<string> lastLines = new();
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
            Keep(e.Data);
        };
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <param name="env">Its environment variables, besides this process's.</param>
    /// <param name="directory">The build whose kennel.dll runs: this benchmark's own when null.</param>
    public static ServeProcess Start(IReadOnlyDictionary<string, string> env, string? directory = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(directory ?? AppContext.BaseDirectory, "kennel.dll"));
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

    /// <summary>CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime() => ProcFs.CpuTime(process.Id);

    public double RssMegabytes() => ProcFs.RssMegabytes(process.Id);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (lastLines)
        {
            lastLines.Enqueue(line);
            if (lastLines.Count > KeptLines)
            {
                lastLines.Dequeue();
            }
        }
    }

    /// <summary>Stops the process; if it had already exited on its own, says so with its last output on stderr.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
        {
            lock (lastLines)
            {
                Console.Error.WriteLine($"kennel serve exited on its own with code {process.ExitCode}; its last output:");
                foreach (var line in lastLines)
                {
                    Console.Error.WriteLine(line);
                }
            }
        }
        else
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public void Dispose() => process.Dispose();
}
