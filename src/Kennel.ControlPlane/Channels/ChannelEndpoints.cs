using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// <c>/v1/channels</c>: the workspace's channels' status, acts and history, as the agent endpoint's channel tools see
/// them; and <c>/v1/channel-events/{workspace}/{channel}</c>, where platforms deliver events (public: the signature is
/// the credential).
/// </summary>
public static class ChannelEndpoints
{
    public static void MapChannels(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/channels").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/channels").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        read.MapGet("", async (HttpContext context, ChannelService channels, string? probe) =>
            TypedResults.Ok(await channels.StatusAsync(Caller.From(context.User), probe is "true" or "1", context.RequestAborted)));

        read.MapGet("/history", async (HttpContext context, ChannelService channels, string? channel, string? chat, string? sender, string? direction,
            string? q, string? since, string? until, string? limit, string? cursor) =>
            TypedResults.Ok(await channels.HistoryAsync(Caller.From(context.User), Filter(channel, chat, sender, direction, q, since, until,
                Query.Int("limit", limit), cursor), context.RequestAborted)));

        write.MapPost("/actions", async (HttpContext context, ChannelService channels) =>
            TypedResults.Ok(await channels.ActAsync(Caller.From(context.User), await JsonBody.ReadAsync<ChannelActionRequest>(context.Request),
                context.RequestAborted)));

        write.MapPost("/{name}/register", async (HttpContext context, ChannelService channels, string name) =>
            TypedResults.Ok(await channels.RegisterAsync(Caller.From(context.User), name,
                (context.Request.ContentLength ?? 1) == 0 ? new() : await JsonBody.ReadAsync<RegisterChannelRequest>(context.Request), context.RequestAborted)));

        app.MapPost("/v1/channel-events/{workspace}/{channel}", ReceiveAsync).AllowAnonymous();
    }

    /// <summary>The history filter from its parts, as REST and MCP take them.</summary>
    public static ChannelStore.HistoryFilter Filter(string? channel, string? chat, string? sender, string? direction, string? query, string? since,
        string? until, int? limit, string? cursor) =>
        new(channel, chat, sender, direction, string.IsNullOrWhiteSpace(query) ? null : query,
            Instants.Parse("since", since)?.ToUnixTimeMilliseconds(), Instants.Parse("until", until)?.ToUnixTimeMilliseconds(), cursor,
            limit ?? ChannelService.DefaultHistoryLimit);

    private static async Task<IResult> ReceiveAsync(HttpContext context, ChannelReceiver receiver, DaemonOptions options, string workspace, string channel)
    {
        var body = await DaemonEndpoints.ReadBodyAsync(context, options.WebhookMaxBytes);
        var headers = context.Request.Headers;
        var answer = await receiver.ReceiveAsync(workspace, channel, header => headers.TryGetValue(header, out var value) ? value.ToString() : null,
            body, context.RequestAborted);
        return answer.HandshakeJson is { } json ? TypedResults.Text(json, "application/json") : TypedResults.Ok(answer.Receipt);
    }
}
