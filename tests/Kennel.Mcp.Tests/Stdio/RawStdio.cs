using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.Stdio;

/// <summary>
/// <c>kennel mcp</c> driven by hand, line by line, for what the SDK client would hide: that every stdout line is a
/// JSON-RPC message, and how the process exits.
/// </summary>
public sealed class RawStdio : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly Process process;
    private readonly StringBuilder stderr = new();

    private RawStdio(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    public static RawStdio Start(IReadOnlyDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(KennelProcess.KennelDll);
        info.ArgumentList.Add("mcp");
        foreach (var (name, value) in env)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        return new RawStdio(Process.Start(info)!);
    }

    public async Task SendAsync(string json)
    {
        await process.StandardInput.WriteLineAsync(json);
        await process.StandardInput.FlushAsync();
    }

    /// <summary>The next stdout line, which must be a JSON-RPC 2.0 message.</summary>
    public async Task<JsonElement> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"kennel mcp closed stdout. stderr:\n{Stderr}");
        return ParseJsonRpc(line);
    }

    /// <summary>Closes stdin (EOF), then waits for the exit; returns the exit code and any further stdout lines.</summary>
    public async Task<(int ExitCode, IReadOnlyList<JsonElement> Remaining)> CloseStdinAndWaitAsync()
    {
        process.StandardInput.Close();
        return await WaitForExitAsync();
    }

    public async Task<(int ExitCode, IReadOnlyList<JsonElement> Remaining)> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var rest = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        process.WaitForExit(); // drains stderr
        return (process.ExitCode, rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseJsonRpc).ToList());
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

    private JsonElement ParseJsonRpc(string line)
    {
        JsonElement message;
        try
        {
            message = JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ShouldAssertException($"stdout carried a line that is not JSON: {line}\nstderr:\n{Stderr}");
        }
        message.GetProperty("jsonrpc").GetString().ShouldBe("2.0", line);
        return message;
    }
}
