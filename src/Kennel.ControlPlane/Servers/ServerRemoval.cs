using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Workers;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// delete-server's background part, one logged step at a time: draining (the worker, already offered no new sessions,
/// gets the grace period for what it runs; what still runs then is cancelled with <see cref="ServerService.ServerDeleted"/>),
/// deleting (the worker service stopped and disabled over SSH when the credential was kept; the worker and its enrollment
/// removed, so its credential stops working), then the server is gone. Everything it needs is in the store, so a removal
/// that a stopped control plane left is carried on by <see cref="ServerRunner"/>.
/// </summary>
public sealed partial class ServerRemoval(ServerStore store, ServerLogin login, WorkerStore workerStore, WorkerRegistry workers, KeyEncryption encryption,
    Ec2.Ec2Launch launch, Ec2.Ec2CredentialStore ec2Credentials, ServerOptions options, ChangeSignal signal, ControlPlaneOptions controlPlane,
    TimeProvider time, ILogger<ServerRemoval> logger)
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public async Task RunAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        var row = await store.FindAsync(id, cancellationToken);
        if (row is null)
        {
            return;
        }
        if (row.WorkerId is { } workerId)
        {
            await DrainAsync(id, workerId, grace, cancellationToken);
        }
        if (Ec2.StoredCloud.FromJson(row.Cloud) is { } cloud)
        {
            await TerminateAsync(id, cloud, cancellationToken);
        }
        else
        {
            await StepAsync(id, ServerStatuses.Deleting, row.Credential is null
            ? $"No credential was kept, so the worker service on {row.Address} is left as it is: it can no longer poll once its worker is removed. " +
                $"Stop it on the machine with 'systemctl disable --now {ServerBootstrap.UnitName}' (or, without systemd, as docs/servers.md says)."
            : await StopServiceAsync(row, cancellationToken), cancellationToken);
        }
        if (row.WorkerId is { } removed)
        {
            // Sessions the worker did not report cancelled end when their lease runs out (LeaseReaper): then it is idle.
            var deadline = time.GetUtcNow() + controlPlane.LeaseTtl * 3;
            while (!await workers.RemoveAsync(removed, cancellationToken))
            {
                if (time.GetUtcNow() > deadline)
                {
                    await store.StepAsync(id, ServerStatuses.Failed, $"Worker {removed} still holds sessions that neither ended nor lost their lease; " +
                        "delete the server again.", Now(), CancellationToken.None, errorCode: ServerService.ServerBusy);
                    return;
                }
                await Task.Delay(Poll, time, cancellationToken);
            }
            await StepAsync(id, ServerStatuses.Deleting, $"Removed worker {removed} and its enrollment: its credential no longer works.", cancellationToken);
        }
        await store.DeleteAsync(id, CancellationToken.None);
        LogRemoved(id, row.Address, row.Port);
    }

    private async Task DrainAsync(string id, string workerId, TimeSpan grace, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + grace;
        long live;
        while ((live = await workerStore.LiveSessionsAsync(workerId, cancellationToken)) > 0 && time.GetUtcNow() < deadline)
        {
            await Task.Delay(Poll, time, cancellationToken);
        }
        if (live == 0)
        {
            await StepAsync(id, ServerStatuses.Draining, $"Worker {workerId} runs no session any more.", cancellationToken);
            return;
        }
        var cancelled = await workerStore.CancelLiveSessionsAsync(workerId, ServerService.ServerDeleted,
            $"The server running this session was deleted (delete-server), and the session did not end within the grace period of {grace.TotalSeconds:0} s.",
            Now(), cancellationToken);
        signal.PulseQueue(); // the worker's waiting poll hears of the cancellations now
        await StepAsync(id, ServerStatuses.Draining, $"The grace period of {grace.TotalSeconds:0} s is over: asked worker {workerId} to cancel the " +
            $"{cancelled} session(s) it still runs ({ServerService.ServerDeleted}).", cancellationToken);
        var reported = time.GetUtcNow() + controlPlane.LeaseTtl;
        while (await workerStore.LiveSessionsAsync(workerId, cancellationToken) > 0 && time.GetUtcNow() < reported)
        {
            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    /// <summary>An EC2 server's instance is terminated rather than its service stopped, and what Kennel created with it deleted.</summary>
    private async Task TerminateAsync(string id, Ec2.StoredCloud stored, CancellationToken cancellationToken)
    {
        var resolved = await ec2Credentials.ResolveAsync(stored.WorkspaceId, stored.AccessKeyIdSecret, stored.SecretAccessKeySecret, cancellationToken);
        if (resolved.Credentials is not { } credentials)
        {
            await StepAsync(id, ServerStatuses.Deleting, $"The secret '{resolved.Missing}' holding the AWS credentials is gone, so instance " +
                $"{stored.Cloud.InstanceId ?? "-"}, security group {stored.Cloud.SecurityGroupId ?? "-"} and key pair {stored.Cloud.KeyName ?? "-"} " +
                "were left in EC2: remove them by hand.", cancellationToken);
            return;
        }
        await StepAsync(id, ServerStatuses.Deleting, $"Terminating instance {stored.Cloud.InstanceId ?? "-"} in {stored.Cloud.Region}.", cancellationToken);
        using var ec2 = credentials.Client(stored.Cloud.Region, options);
        await launch.CleanUpAsync(id, ec2, stored.Cloud, cancellationToken);
    }

    /// <summary>Logs in with the kept credential, pinned to the host key seen at the add, and stops the service; a failure is logged as a step, not fatal.</summary>
    private async Task<string> StopServiceAsync(ServerRow row, CancellationToken cancellationToken)
    {
        var system = row.System is { } json ? JsonSerializer.Deserialize(json, KennelJson.Default.ServerSystem) : null;
        try
        {
            var credential = JsonSerializer.Deserialize(encryption.Decrypt(ServerService.CredentialOwner(row.Id), row.Credential!),
                ServerJson.Default.StoredCredential)!;
            using var target = SshTarget.Parse(new TestConnectionRequest
            {
                Address = row.Address,
                Port = row.Port,
                Username = row.Username,
                Password = credential.Password,
                PrivateKey = credential.PrivateKey,
                Passphrase = credential.Passphrase,
                ExpectedHostKey = row.HostKey,
            });
            using var session = await login.OpenAsync(target, cancellationToken);
            return await ServerBootstrap.StopWorkerAsync(session, system ?? await ServerLogin.ProbeAsync(session, cancellationToken), cancellationToken);
        }
        catch (ServerConnectionException failed)
        {
            return $"Could not stop the worker service on {row.Address} ({failed.Code}: {failed.Message}); it can no longer poll once its worker is removed.";
        }
        catch (System.Security.Cryptography.CryptographicException unreadable)
        {
            LogStopFailed(unreadable, row.Id);
            return "The kept credential cannot be decrypted (the key-encryption key is not the one it was stored with), so the worker service was not " +
                "stopped; it can no longer poll once its worker is removed.";
        }
        catch (Exception unexpected) when (unexpected is Renci.SshNet.Common.SshException or IOException or System.Net.Sockets.SocketException)
        {
            LogStopFailed(unexpected, row.Id);
            return $"The connection to {row.Address} failed while stopping the worker service ({unexpected.Message}); it can no longer poll once its worker is removed.";
        }
    }

    private async Task StepAsync(string id, string status, string message, CancellationToken cancellationToken)
    {
        await store.StepAsync(id, status, message, Now(), cancellationToken);
        LogStep(id, status, message);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} {Status}: {Message}")]
    private partial void LogStep(string id, string status, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Id} at {Address} port {Port} removed")]
    private partial void LogRemoved(string id, string address, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping the worker service of server {Id} failed")]
    private partial void LogStopFailed(Exception exception, string id);
}
