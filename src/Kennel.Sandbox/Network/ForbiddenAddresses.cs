using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Kennel.Sandbox.Network;

/// <summary>
/// The addresses no sandbox reaches in any mode: loopback, link-local (with the cloud metadata address), private and
/// other special ranges unless the installation allows one, and every address of this machine and of the control plane.
/// Every address a name resolves to is checked here, right before the connection, so a name that resolves somewhere
/// forbidden (DNS rebinding) gets nowhere.
/// </summary>
public sealed class ForbiddenAddresses
{
    private static readonly (IPNetwork Range, string Reason)[] Special =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved"),
        (IPNetwork.Parse("224.0.0.0/3"), "multicast-or-reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fc00::/7"), "private"),
        (IPNetwork.Parse("ff00::/8"), "multicast-or-reserved"),
    ];

    private readonly IReadOnlyList<IPNetwork> _allowedPrivate;
    private readonly HashSet<IPAddress> _own;

    /// <param name="allowedPrivateRanges">Private ranges an admin lets sandboxes reach (never loopback or link-local).</param>
    /// <param name="alsoForbidden">More addresses to refuse, such as the control plane's.</param>
    public ForbiddenAddresses(IReadOnlyList<IPNetwork> allowedPrivateRanges, IEnumerable<IPAddress> alsoForbidden)
    {
        _allowedPrivate = allowedPrivateRanges;
        _own = [.. alsoForbidden.Select(Canonical), .. LocalAddresses()];
    }

    /// <summary>Why <paramref name="address"/> is refused (the rule's name), or null when a sandbox may reach it.</summary>
    public string? Reason(IPAddress address)
    {
        var canonical = Canonical(address);
        foreach (var (range, reason) in Special)
        {
            if (range.Contains(canonical) && !(reason == "private" && _allowedPrivate.Any(a => a.Contains(canonical))))
            {
                return reason;
            }
        }
        return _own.Contains(canonical) ? "kennel-host" : null;
    }

    // An IPv4 address written as IPv6 (mapped, NAT64 or 6to4) is checked as the IPv4 address it carries.
    private static IPAddress Canonical(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            if (Nat64.Contains(address))
            {
                return new IPAddress(bytes.AsSpan(12, 4));
            }
            if (bytes[0] == 0x20 && bytes[1] == 0x02)
            {
                return new IPAddress(bytes.AsSpan(2, 4));
            }
        }
        return address;
    }

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private static IEnumerable<IPAddress> LocalAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => Canonical(a.Address));
}
