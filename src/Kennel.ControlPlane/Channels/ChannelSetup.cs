using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Channels;

/// <summary>Messaging channels: the platforms, the receiver, the outbox and its sender, the answers' tracker, and the service.</summary>
public static class ChannelSetup
{
    public static IServiceCollection AddChannels(this IServiceCollection services, ChannelOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<IChannelAdapter, Webhook.WebhookChannel>();
        services.AddSingleton<IChannelAdapter, Slack.SlackChannel>();
        services.AddSingleton<IChannelAdapter, Telegram.TelegramChannel>();
        services.AddSingleton<IChannelAdapter, Discord.DiscordChannel>();
        services.AddSingleton<Discord.DiscordGatewayStore>();
        services.AddSingleton<Discord.DiscordGatewayServices>();
        services.AddHostedService<Discord.DiscordGateways>();
        services.AddSingleton<ChannelAdapters>();
        services.AddSingleton<ChannelStore>();
        services.AddSingleton<ChannelHttp>();
        services.AddSingleton<ChannelOutbox>();
        services.AddSingleton<ChannelReceiver>();
        services.AddSingleton<ChannelService>();
        services.AddSingleton<ChannelSender>();
        services.AddHostedService(provider => provider.GetRequiredService<ChannelSender>());
        services.AddHostedService<ChannelReplies>();
        services.AddSingleton<Kennel.Agents.Runtime.IAgentTool, Agents.Tools.MessageTool>();
        return services;
    }
}
