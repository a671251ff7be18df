using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Workers;
using Microsoft.Extensions.Logging;
using Renci.SshNet;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Makes a worker of a machine, one logged step at a time: connecting (login, host key, probe), bootstrapping (the
/// <c>kennel</c> build uploaded over SFTP and checked by SHA-256, bubblewrap and libseccomp from the machine's own package
/// manager), enrolling (a one-time token in a root-only file, the worker started as a systemd service or, without
/// systemd, by a supervising script started now and at boot by cron), and ready once the worker has polled. Nothing is
/// fetched from the internet on the machine but its distribution's packages.
/// </summary>
public sealed partial class ServerBootstrap(ServerStore store, ServerLogin login, WorkerRegistry workers, ServerOptions options, TimeProvider time,
    ILogger<ServerBootstrap> logger)
{
    public const string BinaryPath = "/usr/local/bin/kennel";
    public const string TokenPath = "/etc/kennel/enrollment-token";
    public const string DataDir = "/var/lib/kennel";
    public const string UnitName = "kennel-worker";
    public const string FallbackScript = "/usr/local/lib/kennel/run-worker.sh";
    public const string SupervisorPidFile = DataDir + "/supervisor.pid";
    public const string WorkerPidFile = DataDir + "/worker.pid";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    public async Task RunAsync(string id, SshTarget target, string name, Uri controlPlane, CancellationToken cancellationToken)
    {
        try
        {
            await StepAsync(id, ServerStatuses.Connecting, $"Logging in to {target.Address} port {target.Port} as {target.Username} ({target.AuthMethod}).", cancellationToken);
            using var session = await login.OpenAsync(target, cancellationToken);
            var system = await ServerLogin.ProbeAsync(session, cancellationToken);
            await store.StepAsync(id, ServerStatuses.Connecting, $"Logged in; host key {session.HostKey.Fingerprint} ({session.HostKey.Trust}); " +
                $"{system.Os} {system.Distribution} {system.Version} {system.Architecture}.", Now(), cancellationToken,
                hostKey: session.HostKey.Fingerprint, system: JsonSerializer.Serialize(system, KennelJson.Default.ServerSystem));
            if (ServerProbe.Problem(system) is { } problem)
            {
                throw new ServerConnectionException(problem.Code, problem.Message);
            }
            var sudo = system.Root ? "" : "sudo -n ";

            var binary = options.WorkerBinaries.GetValueOrDefault(system.Architecture) ?? throw new ServerConnectionException(ConnectionErrors.UnsupportedOs,
                $"This control plane has no kennel build for {system.Architecture}: set KENNEL_WORKER_BINARY_{system.Architecture.ToUpperInvariant()} to a " +
                $"self-contained single-file publish (dotnet publish src/Kennel -r linux-{(system.Architecture == "aarch64" ? "arm64" : "x64")} --self-contained -p:PublishSingleFile=true).");
            await StepAsync(id, ServerStatuses.Bootstrapping, $"Uploading {binary} to {BinaryPath}.", cancellationToken);
            var hash = await UploadAsync(target, session, sudo, binary, id, cancellationToken);
            await StepAsync(id, ServerStatuses.Bootstrapping, $"Uploaded; SHA-256 {hash} checked on the machine.", cancellationToken);
            if (!system.BubblewrapInstalled || !await HasSeccompAsync(session, cancellationToken))
            {
                var install = PackageInstall(system.PackageManager) ?? throw new ServerConnectionException(ConnectionErrors.UnsupportedOs,
                    "bubblewrap or libseccomp is missing and the machine has no package manager Kennel knows (apt-get, dnf, yum, zypper, apk, pacman): install them, then add the server again.");
                await StepAsync(id, ServerStatuses.Bootstrapping, $"Installing bubblewrap and libseccomp with {system.PackageManager}.", cancellationToken);
                await RunCheckedAsync(session, sudo + install, "installing bubblewrap and libseccomp", cancellationToken);
            }

            var (tokenId, token) = await workers.CreateTokenForServerAsync(TimeSpan.FromHours(1), cancellationToken);
            await store.StepAsync(id, ServerStatuses.Enrolling, $"Writing a one-time enrollment token to {TokenPath} (mode 0600) and starting the worker.",
                Now(), cancellationToken, enrollmentTokenId: tokenId);
            await WriteRootFileAsync(session, sudo, TokenPath, token.Token, "0600", cancellationToken);
            var command = $"{BinaryPath} worker --url '{controlPlane}' --token-file {TokenPath} --name '{name}' --data-dir {DataDir}";
            var how = system.Systemd
                ? await StartServiceAsync(session, sudo, command, cancellationToken)
                : await StartFallbackAsync(session, sudo, command, cancellationToken);
            await StepAsync(id, ServerStatuses.Enrolling, how, cancellationToken);

            var deadline = time.GetUtcNow() + options.ReadyTimeout;
            string? workerId;
            while ((workerId = await store.PolledWorkerAsync(tokenId, cancellationToken)) is null)
            {
                if (time.GetUtcNow() > deadline)
                {
                    throw new ServerConnectionException(ConnectionErrors.BootstrapFailed, $"The worker did not poll {controlPlane} within {options.ReadyTimeout.TotalSeconds:0} s. " +
                        (system.Systemd ? $"See 'journalctl -u {UnitName}' on the machine" : "See /var/log/kennel-worker.log on the machine") +
                        ", and check that the machine reaches that URL.");
                }
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
            await store.StepAsync(id, ServerStatuses.Ready, $"Worker {workerId} polled the control plane: the server is ready.", Now(), cancellationToken,
                workerId: workerId);
        }
        catch (ServerConnectionException failed)
        {
            await store.StepAsync(id, ServerStatuses.Failed, failed.Message, Now(), CancellationToken.None, errorCode: failed.Code, hostKey: failed.HostKey?.Fingerprint);
        }
        catch (Exception unexpected) when (unexpected is Renci.SshNet.Common.SshException or IOException or System.Net.Sockets.SocketException)
        {
            LogFailed(unexpected, id);
            await store.StepAsync(id, ServerStatuses.Failed, $"The connection failed during the bootstrap: {unexpected.Message}", Now(), CancellationToken.None,
                errorCode: ConnectionErrors.Unreachable);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await store.StepAsync(id, ServerStatuses.Failed, "The control plane stopped during the bootstrap; delete the server and add it again.", Now(),
                CancellationToken.None, errorCode: ConnectionErrors.Timeout);
        }
        finally
        {
            target.Dispose();
        }
    }

    private static async Task<string> UploadAsync(SshTarget target, SshSession session, string sudo, string binary, string id, CancellationToken cancellationToken)
    {
        string hash;
        await using (var file = File.OpenRead(binary))
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        }
        var staging = $"/tmp/kennel-upload-{id}";
        using (var sftp = new SftpClient(target.ConnectionInfo()))
        {
            sftp.HostKeyReceived += (_, key) => key.CanTrust = string.Equals($"SHA256:{key.FingerPrintSHA256}", session.HostKey.Fingerprint, StringComparison.Ordinal);
            await sftp.ConnectAsync(cancellationToken);
            await using var file = File.OpenRead(binary);
            await sftp.UploadFileAsync(file, staging, cancellationToken);
        }
        var check = await session.RunAsync($"sha256sum {staging}", StepTimeout, cancellationToken);
        if (!check.Stdout.StartsWith(hash, StringComparison.Ordinal))
        {
            await session.RunAsync($"rm -f {staging}", StepTimeout, cancellationToken);
            throw new ServerConnectionException(ConnectionErrors.BootstrapFailed, $"The uploaded kennel build's SHA-256 is not {hash}: the upload was damaged.");
        }
        await RunCheckedAsync(session, $"{sudo}install -D -m 0755 {staging} {BinaryPath} && rm -f {staging}", "installing the kennel build", cancellationToken);
        return hash;
    }

    private static async Task<bool> HasSeccompAsync(SshSession session, CancellationToken cancellationToken) =>
        (await session.RunAsync("ldconfig -p 2>/dev/null | grep -q 'libseccomp.so.2' || ls /usr/lib/*/libseccomp.so.2 /usr/lib/libseccomp.so.2 /lib/*/libseccomp.so.2 >/dev/null 2>&1",
            StepTimeout, cancellationToken)).ExitCode == 0;

    private static string? PackageInstall(string? packageManager) => packageManager switch
    {
        "apt-get" => "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap libseccomp2 || (apt-get update -q && env DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap libseccomp2)",
        "dnf" => "dnf install -y bubblewrap libseccomp",
        "yum" => "yum install -y bubblewrap libseccomp",
        "zypper" => "zypper --non-interactive install bubblewrap libseccomp2",
        "apk" => "apk add --no-cache bubblewrap libseccomp",
        "pacman" => "pacman -S --noconfirm --needed bubblewrap libseccomp",
        _ => null,
    };

    private static async Task<string> StartServiceAsync(SshSession session, string sudo, string command, CancellationToken cancellationToken)
    {
        var unit = $"""
            [Unit]
            Description=Kennel worker
            Wants=network-online.target
            After=network-online.target

            [Service]
            ExecStart={command}
            Restart=always
            RestartSec=5

            [Install]
            WantedBy=multi-user.target

            """;
        await WriteRootFileAsync(session, sudo, $"/etc/systemd/system/{UnitName}.service", unit, "0644", cancellationToken);
        await RunCheckedAsync(session, $"{sudo}systemctl daemon-reload && {sudo}systemctl enable --now {UnitName}", "starting the systemd service", cancellationToken);
        return $"Started the systemd service {UnitName} (enabled, so it starts at boot).";
    }

    /// <summary>Without systemd: a script that restarts the worker when it exits, started now in its own session and at boot by cron.</summary>
    private static async Task<string> StartFallbackAsync(SshSession session, string sudo, string command, CancellationToken cancellationToken)
    {
        var script = $"""
            #!/bin/sh
            # Kennel worker supervisor, written by add-server: restarts the worker when it exits. delete-server stops it
            # through the two pid files.
            mkdir -p {DataDir}
            echo $$ >{SupervisorPidFile}
            while true; do
              {command} >>/var/log/kennel-worker.log 2>&1 &
              echo $! >{WorkerPidFile}
              wait $!
              sleep 5
            done

            """;
        await WriteRootFileAsync(session, sudo, FallbackScript, script, "0755", cancellationToken);
        await RunCheckedAsync(session, $"{sudo}setsid nohup {FallbackScript} </dev/null >/dev/null 2>&1 &", "starting the worker", cancellationToken);
        var cron = await session.RunAsync(
            $"command -v crontab >/dev/null && ({sudo}crontab -l 2>/dev/null | grep -v '{FallbackScript}'; echo '@reboot {FallbackScript}') | {sudo}crontab -",
            StepTimeout, cancellationToken);
        return cron.ExitCode == 0
            ? $"No systemd: started {FallbackScript} with setsid and nohup, and added it to root's crontab as @reboot."
            : $"No systemd: started {FallbackScript} with setsid and nohup. There is no crontab, so nothing starts it after a reboot: add it to the machine's init.";
    }

    /// <summary>
    /// delete-server's stop: the systemd service disabled and stopped and its unit removed or, without systemd, the
    /// supervising script and the worker killed through their pid files and the @reboot line dropped; then the enrollment
    /// token file. The kennel build and the data directory stay. Returns what was done, for the step.
    /// </summary>
    public static async Task<string> StopWorkerAsync(SshSession session, ServerSystem system, CancellationToken cancellationToken)
    {
        var sudo = system.Root ? "" : "sudo -n ";
        if (system.Systemd)
        {
            await RunCheckedAsync(session, $"{sudo}systemctl disable --now {UnitName} && {sudo}rm -f /etc/systemd/system/{UnitName}.service {TokenPath} && " +
                $"{sudo}systemctl daemon-reload", "stopping the systemd service", cancellationToken);
            return $"Stopped and disabled the systemd service {UnitName}, and removed its unit and the enrollment token file.";
        }
        await RunCheckedAsync(session,
            $"for f in {SupervisorPidFile} {WorkerPidFile}; do if [ -f $f ]; then {sudo}kill $(cat $f) 2>/dev/null; {sudo}rm -f $f; fi; done; " +
            $"{sudo}rm -f {TokenPath}; if command -v crontab >/dev/null; then {sudo}crontab -l 2>/dev/null | grep -v '{FallbackScript}' | {sudo}crontab -; fi; true",
            "stopping the worker", cancellationToken);
        return $"No systemd: stopped {FallbackScript} and the worker it supervised, dropped its @reboot line from root's crontab, and removed the enrollment token file.";
    }

    private static async Task WriteRootFileAsync(SshSession session, string sudo, string path, string content, string mode, CancellationToken cancellationToken)
    {
        // On stdin, so no content is parsed by the remote shell or shown in its process list; the mode is set before anything is written.
        await RunCheckedAsync(session, $"{sudo}mkdir -p \"$(dirname {path})\" && {sudo}install -m {mode} /dev/null {path} && {sudo}tee {path} >/dev/null",
            $"writing {path}", cancellationToken, content);
    }

    private static async Task RunCheckedAsync(SshSession session, string command, string what, CancellationToken cancellationToken, string? input = null)
    {
        var result = await session.RunAsync(command, StepTimeout, cancellationToken, input);
        if (result.ExitCode != 0)
        {
            var output = (result.Stderr.Length > 0 ? result.Stderr : result.Stdout).Trim();
            throw new ServerConnectionException(ConnectionErrors.BootstrapFailed,
                string.Create(CultureInfo.InvariantCulture, $"Failed {what} (exit {result.ExitCode}): {(output.Length > 500 ? output[..500] : output)}"));
        }
    }

    private Task StepAsync(string id, string status, string message, CancellationToken cancellationToken) =>
        store.StepAsync(id, status, message, Now(), cancellationToken);

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bootstrap of server {Id} failed")]
    private partial void LogFailed(Exception exception, string id);
}
