namespace Kennel.Cli;

/// <summary>A failure to report to the user in one line, with the exit code to leave with. No stack trace.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Error, bool transient = false) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>Kennel could not be reached; trying again later may work.</summary>
    public bool Transient { get; } = transient;
}

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;

    /// <summary>The session ended without an exit code of its own (lost worker, sandbox failure), as <c>docker run</c> uses it.</summary>
    public const int KennelFailure = 125;

    /// <summary>The session ran past its timeout, as <c>timeout(1)</c> reports it.</summary>
    public const int TimedOut = 124;

    /// <summary>The session was cancelled, as a shell reports an interrupt.</summary>
    public const int Cancelled = 130;
}
