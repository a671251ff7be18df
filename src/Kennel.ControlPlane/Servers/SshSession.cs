using System.Net.Sockets;
using Kennel.Contracts.Servers;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Kennel.ControlPlane.Servers;

/// <summary>A failure to reach or log in to a machine, with one of <see cref="ConnectionErrors"/>. Its message holds no secret.</summary>
public sealed class ServerConnectionException(string code, string message, HostKey? hostKey = null) : Exception(message)
{
    public string Code { get; } = code;

    /// <summary>The key the server presented, when it got that far: shown so the user can compare it with the real one.</summary>
    public HostKey? HostKey { get; } = hostKey;
}

/// <summary>
/// One logged-in SSH connection (SSH.NET's <see cref="SshClient"/>) whose host key was checked during the handshake:
/// against <see cref="SshTarget.ExpectedHostKey"/> when pinned, else against the key remembered for the address and
/// port, else trusted as new. Every failure becomes a <see cref="ServerConnectionException"/> with its code.
/// </summary>
public sealed class SshSession : IDisposable
{
    private readonly SshClient client;

    private SshSession(SshClient client, HostKey hostKey)
    {
        this.client = client;
        HostKey = hostKey;
    }

    public HostKey HostKey { get; }

    public static async Task<SshSession> OpenAsync(SshTarget target, string? knownFingerprint, CancellationToken cancellationToken)
    {
        HostKey? presented = null;
        var rejected = false;
        var client = new SshClient(target.ConnectionInfo());
        client.HostKeyReceived += (_, key) =>
        {
            var fingerprint = $"SHA256:{key.FingerPrintSHA256}";
            var trust = target.ExpectedHostKey is { } pinned
                ? string.Equals(pinned, fingerprint, StringComparison.Ordinal) ? "pinned" : null
                : knownFingerprint is null ? "new" : string.Equals(knownFingerprint, fingerprint, StringComparison.Ordinal) ? "known" : null;
            presented = new HostKey(key.HostKeyName, fingerprint, trust ?? "rejected");
            rejected = trust is null;
            key.CanTrust = !rejected;
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(target.Timeout);
        try
        {
            await client.ConnectAsync(deadline.Token);
            return new SshSession(client, presented!);
        }
        catch (Exception failure) when (Classify(failure, target, rejected, presented, cancellationToken) is { } known)
        {
            client.Dispose();
            throw known;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>At most this much of each of a command's stdout and stderr is read: a machine cannot make the control plane buffer more.</summary>
    public const int MaxOutputBytes = 1 << 20;

    /// <summary>
    /// Runs a command, with <paramref name="input"/> on its stdin (how a secret reaches the machine without being on a
    /// command line). Its output is read as it comes, up to <see cref="MaxOutputBytes"/> per stream: a command that writes
    /// more is stopped and fails with <see cref="ConnectionErrors.OutputTooLarge"/>, so only Kennel's own short probes and
    /// steps go through here.
    /// </summary>
    public async Task<CommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken, string? input = null)
    {
        using var run = client.CreateCommand(command);
        run.CommandTimeout = timeout;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var execution = run.ExecuteAsync(stop.Token);
        var stdout = ReadCappedAsync(run.OutputStream, stop);
        var stderr = ReadCappedAsync(run.ExtendedOutputStream, stop);
        try
        {
            if (input is not null)
            {
                await using var stdin = run.CreateInputStream();
                await stdin.WriteAsync(System.Text.Encoding.UTF8.GetBytes(input), stop.Token);
            }
            await execution;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Stopped because a stream went over the cap: said below.
        }
        var (output, outputTooLarge) = await stdout;
        var (error, errorTooLarge) = await stderr;
        if (outputTooLarge || errorTooLarge)
        {
            throw new ServerConnectionException(ConnectionErrors.OutputTooLarge, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"A command Kennel ran on the machine wrote more than {MaxOutputBytes / 1024 / 1024} MiB to its {(outputTooLarge ? "stdout" : "stderr")}, " +
                $"so it was stopped: Kennel's probes and bootstrap steps write a few KiB. Check the user's shell startup files and any ForceCommand on the server."));
        }
        return new CommandResult(run.ExitStatus ?? -1, output, error);
    }

    /// <summary>Reads a stream to its end, or until it passes the cap: then the command is stopped (<paramref name="stop"/>) and the rest is never read.</summary>
    private static async Task<(string Text, bool TooLarge)> ReadCappedAsync(Stream stream, CancellationTokenSource stop)
    {
        using var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            if (kept.Length + read > MaxOutputBytes)
            {
                await stop.CancelAsync();
                return ("", true);
            }
            kept.Write(buffer, 0, read);
        }
        return (System.Text.Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length), false);
    }

    public void Dispose() => client.Dispose();

    private static ServerConnectionException? Classify(Exception failure, SshTarget target, bool rejected, HostKey? presented, CancellationToken caller)
    {
        var where = $"{target.Address} port {target.Port}";
        if (rejected)
        {
            return new ServerConnectionException(ConnectionErrors.HostKeyMismatch, target.ExpectedHostKey is null
                ? $"{where} presented host key {presented!.Fingerprint}, not the one Kennel trusted before. If the machine was reinstalled, " +
                    "check the new key on its console ('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub') and pass it as expectedHostKey."
                : $"{where} presented host key {presented!.Fingerprint}, not the expected {target.ExpectedHostKey}.", presented);
        }
        return failure switch
        {
            OperationCanceledException when !caller.IsCancellationRequested => TimedOut(where, target),
            SshOperationTimeoutException => TimedOut(where, target),
            SocketException { SocketErrorCode: SocketError.TimedOut } => TimedOut(where, target),
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } =>
                new(ConnectionErrors.Unreachable, $"Nothing accepts connections on {where}: is sshd running, and is the port right?"),
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } =>
                new(ConnectionErrors.Unreachable, $"The name {target.Address} does not resolve."),
            SocketException socket => new(ConnectionErrors.Unreachable, $"Cannot reach {where}: {socket.SocketErrorCode}."),
            SshAuthenticationException => new(ConnectionErrors.AuthFailed,
                $"{where} refused the {target.AuthMethod} for user '{target.Username}'.", presented),
            SshConnectionException or SshException or ProxyException => new(ConnectionErrors.Unreachable,
                $"{where} accepted the connection but did not complete an SSH handshake: {failure.Message}", presented),
            _ => null,
        };
    }

    private static ServerConnectionException TimedOut(string where, SshTarget target) => new(ConnectionErrors.Timeout,
        $"{where} did not answer within {target.Timeout.TotalSeconds:0} s: a firewall may drop the traffic, or the address is wrong.");
}

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr);
