using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Servers: machines reached over SSH. <see cref="TestConnectionAsync"/> logs in for real (SSH.NET), checks the host key,
/// and probes the machine. MCP, REST and the CLI all call here.
/// </summary>
public sealed partial class ServerService(ServerStore store, TimeProvider time, ILogger<ServerService> logger)
{
    public async Task<ConnectionTest> TestConnectionAsync(Caller caller, TestConnectionRequest request, CancellationToken cancellationToken)
    {
        RequireInstallationAdmin(caller);
        using var target = SshTarget.Parse(request);
        var started = time.GetTimestamp();
        HostKey? hostKey = null;
        ServerSystem? system = null;
        ConnectionError? error;
        try
        {
            using var session = await OpenAsync(target, cancellationToken);
            hostKey = session.HostKey;
            system = await ProbeAsync(session, cancellationToken);
            error = ServerProbe.Problem(system);
        }
        catch (ServerConnectionException failed)
        {
            hostKey = failed.HostKey;
            error = new ConnectionError(failed.Code, failed.Message);
        }
        LogTested(target.Address, target.Port, target.Username, error?.Code ?? "ok");
        return new ConnectionTest
        {
            Ok = error is null,
            Address = target.Address,
            Port = target.Port,
            Username = target.Username,
            HostKey = hostKey,
            System = system,
            Error = error,
            ElapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    /// <summary>
    /// Logs in with the host key checked against what is trusted for the address and port, and remembers a key trusted
    /// now for the first time (or pinned anew) once the login succeeded with it.
    /// </summary>
    internal async Task<SshSession> OpenAsync(SshTarget target, CancellationToken cancellationToken)
    {
        var known = await store.FindHostKeyAsync(target.Address, target.Port, cancellationToken);
        var session = await SshSession.OpenAsync(target, known?.Fingerprint, cancellationToken);
        if (session.HostKey.Trust != "known")
        {
            await store.TrustHostKeyAsync(target.Address, target.Port, session.HostKey.Algorithm, session.HostKey.Fingerprint,
                replace: session.HostKey.Trust == "pinned", time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        }
        return session;
    }

    internal static async Task<ServerSystem> ProbeAsync(SshSession session, CancellationToken cancellationToken)
    {
        var probe = await session.RunAsync(ServerProbe.Script, ServerProbe.Timeout, cancellationToken);
        return ServerProbe.Parse(probe.Stdout) ?? throw new ServerConnectionException(ConnectionErrors.UnsupportedOs,
            "The machine did not run Kennel's probe as a POSIX shell script: its login shell is not sh-compatible, or it is not a Unix system.",
            session.HostKey);
    }

    // Servers become workers, which run every workspace's sessions, so only the installation's admins may manage them.
    private static void RequireInstallationAdmin(Caller caller)
    {
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may manage servers.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection test to {Address} port {Port} as {Username}: {Outcome}")]
    private partial void LogTested(string address, int port, string username, string outcome);
}
