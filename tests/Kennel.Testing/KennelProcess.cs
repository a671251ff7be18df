using System.Diagnostics;
using System.Text;

namespace Kennel.Testing;

/// <summary>
/// The real <c>kennel</c> executable as a child process: for the CLI, for a remote worker, and for a control plane that
/// a test kills with SIGKILL.
/// </summary>
public sealed class KennelProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly Lock gate = new();

    private KennelProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>kennel.dll sits beside the test assembly, because the test projects reference src/Kennel.</summary>
    public static string KennelDll => Path.Combine(AppContext.BaseDirectory, "kennel.dll");

    public int Pid => process.Id;

    public string Stdout { get { lock (gate) { return stdout.ToString(); } } }
    public string Stderr { get { lock (gate) { return stderr.ToString(); } } }

    public static KennelProcess Start(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(KennelDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("KENNEL_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }
        foreach (var (name, value) in env)
        {
            info.Environment[name] = value;
        }
        return new KennelProcess(Process.Start(info)!);
    }

    /// <summary>Runs a command to completion and returns its exit code with everything it printed.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string?> env, params string[] args) =>
        RunWithInputAsync(env, null, args);

    /// <summary>Runs a command with <paramref name="stdin"/> as its standard input.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(IReadOnlyDictionary<string, string?> env, string? stdin, params string[] args)
    {
        await using var run = Start(env, args);
        if (stdin is not null)
        {
            await run.process.StandardInput.WriteAsync(stdin);
        }
        run.process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await run.process.WaitForExitAsync(timeout.Token);
        run.process.WaitForExit(); // drains the asynchronous readers
        return (run.process.ExitCode, run.Stdout, run.Stderr);
    }

    /// <summary>Waits until the process prints <paramref name="text"/> on stdout or stderr.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!Stdout.Contains(text, StringComparison.Ordinal) && !Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"kennel never printed '{text}'. stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly as in a crash.</summary>
    public async Task KillHardAsync()
    {
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a service manager stops a process.</summary>
    public async Task TerminateAsync()
    {
        _ = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            target.AppendLine(line);
        }
    }
}
