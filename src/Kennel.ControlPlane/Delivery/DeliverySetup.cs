using Kennel.ControlPlane.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Delivery;

/// <summary>The outbox of outbound webhooks and the sender that empties it, in one registration.</summary>
public static class DeliverySetup
{
    public static IServiceCollection AddDelivery(this IServiceCollection services, OutboundAddresses addresses)
    {
        services.AddSingleton(addresses);
        services.AddSingleton<WebhookOutbox>();
        services.AddHostedService<WebhookSender>();
        return services;
    }
}
