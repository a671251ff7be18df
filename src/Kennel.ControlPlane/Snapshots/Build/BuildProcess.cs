using System.Diagnostics;

namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>Runs one program of a build, its stdout and stderr going line by line to the build's log.</summary>
internal static class BuildProcess
{
    public static async Task<int> RunAsync(ProcessStartInfo start, Func<string, Task> log, CancellationToken cancellationToken)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        using var process = Process.Start(start) ?? throw new SnapshotBuildException("build_failed", $"{start.FileName} did not start.");
        process.StandardInput.Close();
        try
        {
            await Task.WhenAll(PumpAsync(process.StandardOutput, log, cancellationToken), PumpAsync(process.StandardError, log, cancellationToken));
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader reader, Func<string, Task> log, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            await log(line);
        }
    }
}
