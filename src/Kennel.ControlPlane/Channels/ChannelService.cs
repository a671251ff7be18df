using System.Globalization;
using Kennel.Contracts.Channels;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Channels;

/// <summary>
/// What people and agents can do with a workspace's channels: read their status (from evidence only), act in them
/// (send, react, pin, through the outbox), and search Kennel's record of their messages. REST, CLI and MCP are thin
/// faces over these calls; every one reads the caller's workspace only.
/// </summary>
public sealed class ChannelService(Database database, ChannelStore store, ChannelOutbox outbox, ConfigService config, SecretService secrets,
    ChannelAdapters adapters, ChannelOptions options, ChannelHttp http, Discord.DiscordGatewayStore gateways, ChangeSignal signal, TimeProvider time)
{
    public const int DefaultHistoryLimit = 50;
    public const int MaxHistoryLimit = 200;
    public const int MaxIdLength = 256;

    /// <summary>How long an act waits for its first outcome before it is answered as pending.</summary>
    public static readonly TimeSpan ActionWait = TimeSpan.FromSeconds(15);

    /// <summary>Every channel's status; with <paramref name="probe"/>, each platform is also asked, now, whether the credentials work.</summary>
    public async Task<ChannelStatusList> StatusAsync(Caller caller, bool probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var channels = ChannelConfig.AllOf(await config.DocumentAsync(caller.WorkspaceId, cancellationToken));
        var stats = (await store.StatsAsync(caller.WorkspaceId, cancellationToken)).ToDictionary(s => s.Channel, StringComparer.Ordinal);
        var pending = await store.PendingAsync(caller.WorkspaceId, cancellationToken);
        var connections = await gateways.ForWorkspaceAsync(caller.WorkspaceId, cancellationToken);
        var statuses = channels.Select(channel => Status(caller, channel, stats.GetValueOrDefault(channel.Name) ?? new ChannelStatsRow(),
            pending.GetValueOrDefault(channel.Name), channel.Kind == Discord.DiscordChannel.KindName ? Gateway(connections.GetValueOrDefault(channel.Name)) : null)).ToList();
        if (probe)
        {
            var probes = await Task.WhenAll(channels.Select(channel => ProbeAsync(caller.WorkspaceId, channel, cancellationToken)));
            statuses = [.. statuses.Select((status, i) => status with { Probe = probes[i] })];
        }
        return new(statuses);
    }

    /// <summary>The platform's answer to the channel's probe, or why there is none.</summary>
    private async Task<ChannelProbe> ProbeAsync(string workspaceId, ChannelConfig channel, CancellationToken cancellationToken)
    {
        var (adapter, message, why) = await PrepareAsync(workspaceId, channel, "probe", cancellationToken);
        if (why is not null)
        {
            return new ChannelProbe(false, $"Not probed: {why}");
        }
        using var request = adapter!.Probe(message!);
        if (request is null)
        {
            return new ChannelProbe(false, $"A {channel.Kind} channel has nothing to ask; its status comes from its traffic alone.");
        }
        return await http.CallAsync(request, adapter.ProbeOutcomeAsync, failure => new ChannelProbe(false, Unanswered(failure)), cancellationToken);
    }

    /// <summary>
    /// Tells the channel's platform to deliver its events to the channel's inbound URL under <paramref name="request"/>'s
    /// base URL (or <c>KENNEL_EXTERNAL_URL</c>), now, and keeps its answer in the channel's status.
    /// </summary>
    public async Task<ChannelRegistration> RegisterAsync(Caller caller, string name, RegisterChannelRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var channel = ChannelConfig.Find(await config.DocumentAsync(caller.WorkspaceId, cancellationToken), name) ?? throw ApiProblem.NotFound("channel", name);
        if (adapters.Find(channel.Kind) is not IChannelRegistration)
        {
            throw ApiProblem.Invalid("channel", $"A {channel.Kind} channel is not registered with its platform: give the platform its inbound URL yourself (channels_status shows it).");
        }
        var publicUrl = request.Url ?? options.ExternalUrl
            ?? throw ApiProblem.Invalid("url", "url is required: Kennel's public https:// base URL, which the platform will deliver to (or set KENNEL_EXTERNAL_URL).");
        if (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var origin) || origin.Scheme is not ("https" or "http") || origin.Query.Length > 0
            || origin.Fragment.Length > 0 || origin.UserInfo.Length > 0)
        {
            throw ApiProblem.Invalid("url", "url must be Kennel's public base URL, like https://kennel.example.com, without a query, fragment or user name.");
        }
        var (adapter, message, why) = await PrepareAsync(caller.WorkspaceId, channel, "register", cancellationToken);
        if (why is not null)
        {
            throw ApiProblem.Invalid("channel", $"Not registered: {why}");
        }
        var inbound = new Uri(origin.AbsoluteUri.TrimEnd('/') + InboundPath(caller, channel));
        using var call = ((IChannelRegistration)adapter!).Register(message!, inbound);
        var answer = await http.CallAsync(call, ((IChannelRegistration)adapter).RegisterOutcomeAsync,
            failure => new ChannelProbe(false, Unanswered(failure)), cancellationToken);
        var now = time.GetUtcNow();
        await store.RegisteredAsync(caller.WorkspaceId, channel.Name, inbound.AbsoluteUri, answer.Ok ? null : answer.Detail, now.ToUnixTimeMilliseconds(),
            cancellationToken);
        return new ChannelRegistration(answer.Ok, inbound.AbsoluteUri, now, answer.Detail);
    }

    /// <summary>The channel's adapter and a request to its platform with its secrets, or why the channel cannot call it yet.</summary>
    private async Task<(IChannelAdapter? Adapter, OutboundRequest? Message, string? Why)> PrepareAsync(string workspaceId, ChannelConfig channel, string action,
        CancellationToken cancellationToken)
    {
        var adapter = adapters.Find(channel.Kind);
        if (adapter is null || ChannelSecrets.Missing(channel, adapter).Count > 0)
        {
            return (null, null, "the channel is not configured.");
        }
        var values = await ChannelSecrets.ResolveAsync(secrets, workspaceId, channel, cancellationToken);
        if (adapter.Required.Any(field => field != "url" && !values.ContainsKey(field)))
        {
            return (null, null, "a secret of the channel cannot be read; set it again.");
        }
        return (adapter, new OutboundRequest("", action, "", null, "", null, null, channel, values, options.ApiBase(channel.Kind), time.GetUtcNow()), null);
    }

    private static string Unanswered(Exception failure) => DeliveryAttempt.FromFailure(failure, Delivery.WebhookSender.AttemptTimeout).Error ?? "no answer";

    private static string InboundPath(Caller caller, ChannelConfig channel) => $"/v1/channel-events/{caller.WorkspaceName}/{channel.Name}";

    private ChannelStatus Status(Caller caller, ChannelConfig channel, ChannelStatsRow stats, long pending, ChannelGateway? gateway)
    {
        var adapter = adapters.Find(channel.Kind);
        IReadOnlyList<string> missing = adapter is null ? ["kind"] : ChannelSecrets.Missing(channel, adapter);
        var registers = adapter is IChannelRegistration;
        var (health, evidence) = Health(channel, stats, missing, registers, gateway);
        return new ChannelStatus
        {
            Name = channel.Name,
            Kind = channel.Kind,
            Agent = channel.Agent,
            Health = health,
            Evidence = evidence,
            Missing = missing,
            Allowed = channel.Allow.Count,
            InboundPath = InboundPath(caller, channel),
            Received = stats.ReceivedCount,
            LastInboundAt = At(stats.LastInboundAt),
            Ignored = stats.IgnoredCount,
            LastIgnoredAt = At(stats.LastIgnoredAt),
            LastIgnoredSender = stats.LastIgnoredSender,
            Sent = stats.SentCount,
            LastSentAt = At(stats.LastSentAt),
            Failed = stats.FailedCount,
            LastFailedAt = At(stats.LastFailedAt),
            LastError = stats.LastError,
            Pending = pending,
            Registration = registers && stats.RegistrationAt is { } at
                ? new ChannelRegistration(stats.RegistrationError is null, stats.RegistrationUrl ?? "", At(at)!.Value, stats.RegistrationError ?? "Accepted by the platform.")
                : null,
            Gateway = gateway,
        };
    }

    /// <summary>A connection's record as status shows it: <c>connected</c> only while a control plane holds it and the platform said so.</summary>
    private ChannelGateway Gateway(Discord.DiscordGatewayRow? row)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var state = row is null ? "not_held"
            : row.State != Discord.DiscordGatewayStates.Stopped && (row.Owner is null || row.LeaseExpiresAt < now) ? "not_held"
            : row.State;
        return new ChannelGateway
        {
            State = state,
            ConnectedSince = state == Discord.DiscordGatewayStates.Connected ? At(row!.ConnectedAt) : null,
            LastHeartbeatAckAt = At(row?.LastAckAt),
            LastEventAt = At(row?.LastEventAt),
            Error = row?.LastError,
            ErrorAt = At(row?.LastErrorAt),
        };
    }

    /// <summary>The channel's health, from what was seen only: nothing is called <c>ok</c> that was not seen working.</summary>
    private static (string Health, string Evidence) Health(ChannelConfig channel, ChannelStatsRow stats, IReadOnlyList<string> missing, bool registers,
        ChannelGateway? gateway)
    {
        if (missing.Count > 0)
        {
            return ("not_configured", $"Missing {string.Join(" and ", missing)}: kennel config set channels.{channel.Name}.{missing[0]} …");
        }
        if (gateway is { State: Discord.DiscordGatewayStates.Stopped, ErrorAt: { } stoppedAt })
        {
            return ("failing", $"The platform closed the connection ({stoppedAt.ToString("O", CultureInfo.InvariantCulture)}) and Kennel does not reconnect until the config changes: {gateway.Error}");
        }
        if (stats.RegistrationError is { } refused)
        {
            return ("failing", $"Registering the inbound URL failed ({Instant(stats.RegistrationAt!.Value)}): {refused.TrimEnd('.')}. Fix it, then: kennel channels register {channel.Name}");
        }
        if (stats.LastFailedAt is { } failed && (stats.LastSentAt is not { } sentAt || failed > sentAt))
        {
            return ("failing", $"The last send failed ({Instant(failed)}): {stats.LastError}");
        }
        if (stats.LastSentAt is { } sent)
        {
            return ("ok", $"The last send succeeded ({Instant(sent)}).");
        }
        if (stats.LastInboundAt is { } inbound)
        {
            return ("ok", $"A message was received ({Instant(inbound)}); nothing has been sent yet.");
        }
        if (registers && stats.RegistrationAt is null)
        {
            return ("no_traffic", $"Configured, but its inbound URL was never registered with {channel.Kind}, so nothing can arrive: kennel channels register {channel.Name}");
        }
        return ("no_traffic", channel.Allow.Count == 0
            ? "Configured, but nothing was received or sent yet, and its allow-list is empty (nobody may talk to the agent)."
            : "Configured, but nothing was received or sent yet: no evidence that it works.");
    }

    /// <summary>Queues an act and waits up to <see cref="ActionWait"/> for its first outcome: sent, failed for good, or pending a retry.</summary>
    public Task<ChannelActionResult> ActAsync(Caller caller, ChannelActionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return ActAsync(caller.WorkspaceId, request, null, cancellationToken);
    }

    /// <summary>
    /// The same for a workspace, under <paramref name="id"/> when given (an agent's tool call, so a resumed run finds its
    /// act instead of sending it twice).
    /// </summary>
    public async Task<ChannelActionResult> ActAsync(string workspaceId, ChannelActionRequest request, string? id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outbound = await ValidateAsync(workspaceId, request, cancellationToken);
        if (id is null || await store.GetAsync(workspaceId, id, cancellationToken) is null)
        {
            id = await database.WriteAsync((connection, transaction) =>
                outbox.EnqueueAsync(connection, transaction, outbound, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken, id), cancellationToken);
            outbox.Wake();
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(ActionWait);
        ChannelMessageRow row;
        while (true)
        {
            var changed = signal.MessageChanged(id);
            row = (await store.GetAsync(workspaceId, id, cancellationToken))!;
            if (row.Status != ChannelMessageStatus.Pending || (row.Attempts > 0 && row.LastError is not null) || wait.IsCancellationRequested)
            {
                break;
            }
            // The sender pulses the message when it records an attempt (here); another replica's is seen within a second.
            await ChangeSignal.WaitAsync(changed, TimeSpan.FromSeconds(1), time, wait.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        return new ChannelActionResult { Id = row.Id, Status = row.Status, PlatformMessageId = row.PlatformMessageId, Error = row.LastError, Attempts = row.Attempts };
    }

    private async Task<ChannelOutbox.Outbound> ValidateAsync(string workspaceId, ChannelActionRequest request, CancellationToken cancellationToken)
    {
        var name = request.Channel ?? throw ApiProblem.Invalid("channel", "channel is required: the name of a channel of this workspace (channels_status lists them).");
        var channel = ChannelConfig.Find(await config.DocumentAsync(workspaceId, cancellationToken), name)
            ?? throw ApiProblem.NotFound("channel", name);
        var action = request.Action ?? ChannelActions.Send;
        if (!ChannelActions.All.Contains(action))
        {
            throw ApiProblem.Invalid("action", "action must be send, react or pin.");
        }
        var chat = Id(request.Chat, "chat", required: true)!;
        var thread = Id(request.Thread, "thread", required: false);
        var target = Id(request.Message, "message", required: action != ChannelActions.Send);
        var text = request.Text ?? "";
        if (action == ChannelActions.Send && (string.IsNullOrWhiteSpace(text) || text.Length > ChannelOutbox.MaxTextLength))
        {
            throw ApiProblem.Invalid("text", $"text is required to send: 1-{ChannelOutbox.MaxTextLength} characters.");
        }
        var emoji = action == ChannelActions.React ? Id(request.Emoji, "emoji", required: true) : null;
        return new ChannelOutbox.Outbound(workspaceId, channel.Name, action, chat, thread, action == ChannelActions.Send ? text : "", target, emoji, null);
    }

    public async Task<ChannelMessagePage> HistoryAsync(Caller caller, ChannelStore.HistoryFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Limit is < 1 or > MaxHistoryLimit)
        {
            throw ApiProblem.Invalid("limit", $"limit must be 1 to {MaxHistoryLimit}.");
        }
        if (filter.Direction is not (null or ChannelDirections.In or ChannelDirections.Out))
        {
            throw ApiProblem.Invalid("direction", "direction must be in or out.");
        }
        if (filter.Before is not null && !SortableId.IsValid(filter.Before, "chm"))
        {
            throw ApiProblem.Invalid("cursor", "cursor must be the nextCursor of a previous page.");
        }
        var rows = await store.HistoryAsync(caller.WorkspaceId, filter with { Limit = filter.Limit + 1 }, cancellationToken);
        var page = rows.Take(filter.Limit).ToList();
        return new ChannelMessagePage([.. page.Select(row => row.ToContract())], rows.Count > filter.Limit ? page[^1].Id : null);
    }

    private static string? Id(string? value, string field, bool required)
    {
        if (value is null)
        {
            return required ? throw ApiProblem.Invalid(field, $"{field} is required: the platform's own id.") : null;
        }
        return value.Length is 0 or > MaxIdLength || value.Any(char.IsControl) || value.Any(char.IsWhiteSpace)
            ? throw ApiProblem.Invalid(field, $"{field} must be 1-{MaxIdLength} characters without spaces: the platform's own id.")
            : value;
    }

    private static DateTimeOffset? At(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    private static string Instant(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O", CultureInfo.InvariantCulture);
}
