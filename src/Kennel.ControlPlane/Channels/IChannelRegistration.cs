using Kennel.Contracts.Channels;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// A platform that must be told where to deliver its events (Telegram's <c>setWebhook</c>), beside
/// <see cref="IChannelAdapter"/>. Kennel registers on request (<c>kennel channels register NAME</c>), and keeps the
/// platform's answer in the channel's status.
/// </summary>
public interface IChannelRegistration
{
    /// <summary>The platform's request that points the channel's events at <paramref name="inboundUrl"/>.</summary>
    HttpRequestMessage Register(OutboundRequest message, Uri inboundUrl);

    /// <summary>What the platform said to the registration, in one line.</summary>
    Task<ChannelProbe> RegisterOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken);
}
