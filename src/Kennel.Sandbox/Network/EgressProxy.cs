using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox.Network;

/// <summary>
/// The worker's one egress proxy. It answers only sandboxes (it listens inside the egress namespace, which nothing
/// else can reach) and knows each by its veth address. HTTPS goes through <c>CONNECT host:port</c> and plain HTTP as
/// absolute-URI requests; both are checked by the host they name, never by looking inside TLS. An allowed name is
/// resolved here, every address checked against <see cref="ForbiddenAddresses"/>, and the connection made to a checked
/// address, so what the name resolves to later changes nothing. A refusal is an HTTP 403 naming the rule.
/// </summary>
internal sealed partial class EgressProxy(Socket listener, DnsClient dns, ForbiddenAddresses forbidden, ILogger logger) : IAsyncDisposable
{
    public const string RuleHeader = "X-Kennel-Egress-Rule";
    private const int MaxHeadBytes = 16 * 1024;
    private const int CopyBufferBytes = 16 * 1024;
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly ConcurrentDictionary<IPAddress, EgressSession> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _accepting = Task.CompletedTask;

    public void Start() => _accepting = AcceptAsync(_stopping.Token);

    public void Add(IPAddress sandbox, EgressSession session) => _sessions[sandbox] = session;

    public void Remove(IPAddress sandbox)
    {
        if (_sessions.TryRemove(sandbox, out var session))
        {
            session.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        listener.Dispose();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task AcceptAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
            {
                return;
            }
            _ = ServeAsync(client, stopping);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        using var owned = client;
        var from = ((IPEndPoint)client.RemoteEndPoint!).Address;
        if (!_sessions.TryGetValue(from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from, out var session))
        {
            return;
        }
        await using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            await ServeAsync(stream, session, stopping);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogConnectionEnded(logger, e.Message);
        }
    }

    private async Task ServeAsync(NetworkStream stream, EgressSession session, CancellationToken cancellationToken)
    {
        var (head, rest) = await ReadHeadAsync(stream, cancellationToken);
        if (ProxyRequest.Parse(head) is not { } request)
        {
            await AnswerAsync(stream, "400 Bad Request", null, "Kennel's egress proxy takes CONNECT host:port or an absolute http:// URL.", cancellationToken);
            return;
        }
        var (rule, upstream) = await ChooseAsync(request, session, cancellationToken);
        if (upstream is null)
        {
            if (rule is null)
            {
                await AnswerAsync(stream, "502 Bad Gateway", null, $"Kennel's egress proxy could not reach {request.Host}:{request.Port}.", cancellationToken);
                return;
            }
            session.Refuse(request.Host, request.Port, rule);
            await AnswerAsync(stream, "403 Forbidden", rule,
                $"Kennel's egress proxy refused {request.Host}:{request.Port}: {Explain(rule)} (rule: {rule}).", cancellationToken);
            return;
        }
        using (upstream)
        await using (var destination = new NetworkStream(upstream, ownsSocket: false))
        {
            if (request.IsConnect)
            {
                await stream.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                var forwarded = request.OriginHead();
                await destination.WriteAsync(forwarded, cancellationToken);
                session.AddOut(forwarded.Length);
            }
            if (rest.Length > 0)
            {
                await destination.WriteAsync(rest, cancellationToken);
                session.AddOut(rest.Length);
            }
            // The session's end, or its byte cap, closes the connection; a refusal above is still answered after the cap.
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Closed);
            await Task.WhenAll(
                CopyAsync(stream, destination, upstream, session.AddOut, ending.Token),
                CopyAsync(destination, stream, null, session.AddIn, ending.Token));
        }
    }

    /// <summary>The rule that allows the request and a connection to a checked address; or the rule that refuses it; or neither, when nothing answers.</summary>
    private async Task<(string? Rule, Socket? Upstream)> ChooseAsync(ProxyRequest request, EgressSession session, CancellationToken cancellationToken)
    {
        if (session.OverCap)
        {
            return ("byte-cap", null);
        }
        IReadOnlyList<IPAddress> addresses;
        string allowedBy;
        if (IPAddress.TryParse(request.Host.Trim('[', ']'), out var literal))
        {
            // An address skips every name rule, so only open mode may ask for one.
            if (session.Policy.Mode != EgressMode.Open)
            {
                return ("raw-ip", null);
            }
            (addresses, allowedBy) = ([literal], EgressPolicy.OpenName);
        }
        else
        {
            if (EgressRule.HostProblem(request.Host) is not null)
            {
                return ("invalid-host", null);
            }
            if (session.Policy.Permit(request.Host, request.Port) is not { } rule)
            {
                return (EgressPolicy.NotListed, null);
            }
            (addresses, allowedBy) = (await dns.ResolveAsync(request.Host, cancellationToken), rule);
        }
        var reasons = addresses.Select(a => (Address: a, Reason: forbidden.Reason(a))).ToList();
        var permitted = reasons.Where(r => r.Reason is null).Select(r => r.Address).ToList();
        if (permitted.Count == 0)
        {
            return (reasons.Count == 0 ? null : reasons[0].Reason, null);
        }
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                await socket.ConnectAsync(address, request.Port, timeout.Token);
                LogAllowed(logger, request.Host, request.Port, allowedBy);
                return (allowedBy, socket);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
            }
        }
        return (null, null);
    }

    private static async Task CopyAsync(Stream from, Stream to, Socket? shutdown, Action<int> count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                count(read);
                cancellationToken.ThrowIfCancellationRequested();
            }
            // The sandbox finished sending: say so upstream, and keep reading the answer.
            shutdown?.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<(byte[] Head, byte[] Early)> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HeadTimeout);
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
            if (read == 0)
            {
                break;
            }
            length += read;
            var end = buffer.AsSpan(0, length).IndexOf(HeadEnd);
            if (end >= 0)
            {
                return (buffer[..(end + HeadEnd.Length)], buffer[(end + HeadEnd.Length)..length]);
            }
        }
        return ([], []);
    }

    private static async Task AnswerAsync(NetworkStream stream, string status, string? rule, string message, CancellationToken cancellationToken)
    {
        var body = message + "\n";
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n");
        if (rule is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"{RuleHeader}: {rule}\r\n");
        }
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n").Append(body);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()), cancellationToken);
    }

    private static string Explain(string rule) => rule switch
    {
        EgressPolicy.NotListed => "no entry of the session's network.allow names this host and port",
        "raw-ip" => "an allow-list session may name hosts only, never addresses",
        "byte-cap" => "the session has moved its network.byteCap of bytes",
        "invalid-host" => "that is not a host name",
        "kennel-host" => "the name resolves to the worker or the control plane",
        _ => $"the name resolves only to {rule} addresses, which sandboxes never reach",
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Egress to {Host}:{Port} allowed by {Rule}")]
    private static partial void LogAllowed(ILogger logger, string host, int port, string rule);

    [LoggerMessage(Level = LogLevel.Debug, Message = "An egress connection ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string reason);
}
