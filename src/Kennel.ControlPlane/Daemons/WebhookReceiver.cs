using Kennel.Contracts.Daemons;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// The public side of a webhook daemon: finds it by workspace and name, checks the request's signature before anything
/// else about the daemon is revealed, and starts a run with the raw body as its payload.
/// </summary>
public sealed class WebhookReceiver(DaemonStore store, DaemonRuns runs, TimeProvider time)
{
    public async Task<DaemonTriggerResult> ReceiveAsync(
        string workspace, string name, Func<string, string?> headers, byte[] body, CancellationToken cancellationToken)
    {
        var daemon = await store.FindByWorkspaceNameAsync(workspace, name, cancellationToken);
        if (daemon is null || daemon.TriggerType != DaemonValues.Webhook)
        {
            throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such webhook.",
                $"There is no webhook daemon '{name}' in workspace '{workspace}'.");
        }
        if (WebhookSignature.Check(daemon.Signature!, daemon.WebhookSecret, daemon.SignatureHeader, headers, body, time.GetUtcNow()) is { } reason)
        {
            throw new ApiProblem(StatusCodes.Status401Unauthorized, DaemonErrors.SignatureInvalid, "The webhook signature does not verify.", reason);
        }
        if (daemon.Status == DaemonValues.Paused)
        {
            throw ApiProblem.Conflict(DaemonErrors.DaemonPaused, $"Daemon '{name}' is paused; resume it to accept webhooks.");
        }
        return await runs.StartAsync(daemon, new TriggerEvent(DaemonValues.Webhook, body), cancellationToken);
    }
}
