using Kennel.Contracts.Servers;

namespace Kennel.ControlPlane.Servers;

/// <summary>A login to a machine with the host key trust of <see cref="ServerStore"/>, and the probe of what it is.</summary>
public sealed class ServerLogin(ServerStore store, TimeProvider time)
{
    /// <summary>
    /// Logs in with the host key checked against what is trusted for the address and port, and remembers a key trusted
    /// now for the first time (or pinned anew) once the login succeeded with it.
    /// </summary>
    public async Task<SshSession> OpenAsync(SshTarget target, CancellationToken cancellationToken)
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

    public static async Task<ServerSystem> ProbeAsync(SshSession session, CancellationToken cancellationToken)
    {
        var probe = await session.RunAsync(ServerProbe.Script, ServerProbe.Timeout, cancellationToken);
        return ServerProbe.Parse(probe.Stdout) ?? throw new ServerConnectionException(ConnectionErrors.UnsupportedOs,
            "The machine did not run Kennel's probe as a POSIX shell script: its login shell is not sh-compatible, or it is not a Unix system.",
            session.HostKey);
    }
}
