using System.Net;
using System.Net.Sockets;

namespace Kennel.ControlPlane.Http;

/// <summary>
/// Where Kennel may connect when someone other than the admin chose the URL (a webhook's destination, a client metadata
/// document): public addresses, and whatever the installation allows on top (<see cref="AllowVariable"/>). The check runs
/// on the addresses a name resolves to, at connect time, so DNS cannot point a public name at the control plane itself,
/// the cloud metadata service or the private network; an HTTP client built by <see cref="Handler"/> connects through it,
/// never through a proxy, and follows no redirect.
/// </summary>
public sealed class OutboundAddresses(IReadOnlyList<IPNetwork> allowed)
{
    public const string AllowVariable = "KENNEL_OUTBOUND_ALLOW_CIDRS";

    /// <summary>Public addresses only: the default.</summary>
    public static OutboundAddresses PublicOnly { get; } = new([]);

    /// <summary>Every address: for a fetch the admin has opened to private networks as a whole.</summary>
    public static OutboundAddresses Any { get; } = new([IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")]);

    // The NAT64 well-known prefix carries an IPv4 address in its last 32 bits; that address is the one reached.
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>The networks allowed beside public addresses.</summary>
    public IReadOnlyList<IPNetwork> Allowed { get; } = allowed;

    /// <summary>
    /// <see cref="AllowVariable"/>'s value: CIDRs separated by commas (<c>127.0.0.0/8,10.0.0.0/8</c>), or a bare address
    /// for one host. Null when one does not parse, with the culprit in <paramref name="error"/>.
    /// </summary>
    public static OutboundAddresses? Parse(string? value, out string? error)
    {
        error = null;
        var networks = new List<IPNetwork>();
        foreach (var part in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(part, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(part, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                error = $"{AllowVariable} must be CIDRs separated by commas, such as 127.0.0.0/8,10.0.0.0/8; '{part}' is not one.";
                return null;
            }
        }
        return networks.Count == 0 ? PublicOnly : new OutboundAddresses(networks);
    }

    /// <summary>Null when Kennel may connect to <paramref name="address"/>; otherwise why not, and how an admin allows it.</summary>
    public string? Refusal(IPAddress address)
    {
        address = Unwrapped(address);
        if (Allowed.Any(network => network.Contains(address)))
        {
            return null;
        }
        return Kind(address) is { } kind ? $"destination {address} is {kind}; an admin can allow it with {AllowVariable}" : null;
    }

    /// <summary>What makes an address not public (such as "a loopback address"), or null for a public one.</summary>
    public static string? Kind(IPAddress address)
    {
        address = Unwrapped(address);
        if (IPAddress.IsLoopback(address))
        {
            return "a loopback address";
        }
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return "an unspecified address";
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var first = address.GetAddressBytes()[0];
            return address.IsIPv6Multicast ? "a multicast address"
                : address.IsIPv6LinkLocal ? "a link-local address"
                : address.IsIPv6SiteLocal || (first & 0xfe) == 0xfc ? "a private address"
                : null;
        }
        var b = address.GetAddressBytes();
        return b[0] switch
        {
            0 => "an unspecified address",
            10 => "a private address",
            172 when b[1] is >= 16 and <= 31 => "a private address",
            192 when b[1] == 168 => "a private address",
            169 when b[1] == 254 => "a link-local address (where cloud metadata services live)",
            100 when b[1] is >= 64 and <= 127 => "a carrier-grade NAT address",
            >= 224 and <= 239 => "a multicast address",
            >= 240 => "a reserved address",
            _ => null,
        };
    }

    /// <summary>
    /// Opens a connection to <paramref name="endpoint"/> on the first of its addresses that may be reached; throws
    /// <see cref="OutboundAddressRefusedException"/> when none may, before any connection is attempted.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var reachable = addresses.Where(address => Refusal(address) is null).ToArray();
        if (reachable.Length == 0)
        {
            throw new OutboundAddressRefusedException(addresses.Length == 0
                ? $"'{endpoint.Host}' resolves to no address"
                : Refusal(addresses[0]) + (literal is null ? $" ('{endpoint.Host}' resolves to it)" : ""));
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(reachable, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP handler that connects only through <see cref="ConnectAsync"/>, uses no proxy and follows no redirect.</summary>
    public SocketsHttpHandler Handler(TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectTimeout = connectTimeout,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, cancellationToken),
    };

    /// <summary>The refusal behind a failed request, if a refusal is what failed it.</summary>
    public static OutboundAddressRefusedException? RefusalIn(Exception? failure)
    {
        for (; failure is not null; failure = failure.InnerException)
        {
            if (failure is OutboundAddressRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    private static IPAddress Unwrapped(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            return new IPAddress(address.GetAddressBytes().AsSpan(12));
        }
        return address;
    }
}

/// <summary>A destination Kennel will not connect to; the message names the address, why, and the setting that allows it.</summary>
public sealed class OutboundAddressRefusedException(string message) : IOException(message);
