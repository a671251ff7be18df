using System.Security.Cryptography;
using Kennel.Contracts.Daemons;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Workspaces;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Daemons;

/// <summary>
/// The public side of a webhook daemon: finds it by workspace and name, checks the request's signature before anything
/// else about the daemon is revealed, and starts a run with the raw body as its payload, once per delivery.
/// </summary>
/// <remarks>
/// A URL with no webhook daemon behind it (no such workspace, no such daemon, a daemon of another kind, a name no daemon
/// can have) is answered exactly as a bad signature is, after the same work (an HMAC of the body under a decoy secret),
/// so neither the answer nor its timing tells whether a daemon exists. A paused daemon is told apart only once the
/// signature verifies.
/// </remarks>
public sealed partial class WebhookReceiver(DaemonStore store, DaemonRuns runs, DaemonOptions options, TimeProvider time, ILogger<WebhookReceiver> logger)
{
    // A secret nobody knows: a request to a missing daemon is checked against it, so it costs what a real check costs.
    private static readonly string DecoySecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    public async Task<DaemonTriggerResult> ReceiveAsync(
        string workspace, string name, Func<string, string?> headers, byte[] body, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var daemon = WorkspaceName.IsValid(workspace) && DaemonValidator.IsName(name)
            ? await store.FindByWorkspaceNameAsync(workspace, name, cancellationToken)
            : null;
        if (daemon is null || daemon.TriggerType != DaemonValues.Webhook)
        {
            WebhookSignature.Check(WebhookSignature.HmacSha256, DecoySecret, WebhookSignature.DefaultHeader(WebhookSignature.HmacSha256), headers, body, now);
            throw Refused();
        }
        if (WebhookSignature.Check(daemon.Signature!, daemon.WebhookSecret, daemon.SignatureHeader, headers, body, now) is { } reason)
        {
            LogRefused(logger, workspace, name, reason);
            throw Refused();
        }
        if (daemon.Status == DaemonValues.Paused)
        {
            throw ApiProblem.Conflict(DaemonErrors.DaemonPaused, $"Daemon '{name}' is paused; resume it to accept webhooks.");
        }
        var delivery = WebhookDelivery.Of(daemon.Signature!, headers, body, now, options.WebhookReplayWindow);
        return await runs.StartAsync(daemon, new TriggerEvent(DaemonValues.Webhook, body, Delivery: delivery), cancellationToken);
    }

    /// <summary>The one answer to every request refused before a valid signature: it names no daemon, scheme or header.</summary>
    private static ApiProblem Refused() => new(StatusCodes.Status401Unauthorized, DaemonErrors.SignatureInvalid, "The webhook signature does not verify.",
        "No webhook at this URL accepts this request: check the URL, and that the request is signed with the daemon's secret " +
        "as its signature scheme requires. Which of these failed is not said, so that daemon names cannot be probed.");

    [LoggerMessage(Level = LogLevel.Debug, Message = "A webhook for workspace {Workspace}, daemon {Daemon}, was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string workspace, string daemon, string reason);
}
