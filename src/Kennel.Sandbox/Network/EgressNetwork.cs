using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Kennel.Sandbox.Network;

/// <summary>
/// A worker's egress: one network namespace of its own (the "egress namespace") where the host end of every sandbox's
/// veth pair lives and where the proxy listens, and a namespace per sandbox with the other end and no default route.
/// </summary>
/// <remarks>
/// No firewall rule is involved, per sandbox or at all: the egress namespace holds nothing but the proxy's listener and
/// does not forward, so a sandbox reaches the proxy and nothing else, not even the host's own services. The proxy's
/// outgoing connections are made from the worker's namespace. A sandbox's setup is two <c>ip -batch</c> calls and
/// its teardown one namespace delete, which takes the veth pair with it. Created on the first session with network,
/// so a worker whose sessions have none never makes any of it.
/// </remarks>
public sealed partial class EgressNetwork : IAsyncDisposable
{
    public const int ProxyPort = 3128;
    private const string NamespaceDirectory = "/run/netns";

    private readonly EgressOptions _options;
    private readonly string _ip;
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _starting = new(1, 1);
    private readonly Lock _slots = new();
    private readonly HashSet<int> _used = [];
    private readonly int _slotCount;
    private readonly uint _rangeStart;
    private int _nextSlot;
    private EgressProxy? _proxy;

    private EgressNetwork(EgressOptions options, string ip, string prefix, ILogger logger)
    {
        _options = options;
        _ip = ip;
        _prefix = prefix;
        _logger = logger;
        _rangeStart = BinaryPrimitives.ReadUInt32BigEndian(options.VethRange.BaseAddress.GetAddressBytes());
        _slotCount = (int)Math.Min(1L << (32 - options.VethRange.PrefixLength - 2), 1 << 20);
    }

    /// <summary>The egress of the worker whose state lives in <paramref name="stateDirectory"/>, or why this machine cannot have one.</summary>
    /// <remarks>Namespaces are named after the state directory, so a restarted worker finds and removes what its last run left.</remarks>
    public static (EgressNetwork? Network, string? Problem) Create(EgressOptions options, string stateDirectory, ILogger logger)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return (null, "sandbox network needs a worker that runs as root (network namespaces and veth pairs)");
        }
        if (ExecutableSearch.Find("ip") is not { } ip)
        {
            return (null, "sandbox network needs the ip command; install it with: apt-get install iproute2");
        }
        if (options.VethRange.BaseAddress.AddressFamily != AddressFamily.InterNetwork || options.VethRange.PrefixLength > 28)
        {
            return (null, "the veth range must be an IPv4 range of at least /28");
        }
        var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(stateDirectory))))[..8];
        var network = new EgressNetwork(options, ip, $"kn{tag}", logger);
        network.RemoveLeftovers();
        return (network, null);
    }

    /// <summary>The namespaces of this worker that exist now, the egress namespace included (for tests and the stress benchmark).</summary>
    public IReadOnlyList<string> Namespaces() =>
        Directory.Exists(NamespaceDirectory) ? [.. Directory.GetFiles(NamespaceDirectory, _prefix + "*").Select(Path.GetFileName)!] : [];

    private string Hub => _prefix + "h";

    /// <summary>Gives a sandbox about to start a namespace of its own, linked to the proxy, under <paramref name="policy"/>.</summary>
    internal async Task<EgressAttachment> AttachAsync(EgressPolicy policy, CancellationToken cancellationToken)
    {
        var proxy = await StartAsync(cancellationToken);
        var slot = TakeSlot();
        var name = $"{_prefix}s{slot.ToString(CultureInfo.InvariantCulture)}";
        var (hubAddress, sandboxAddress) = Addresses(slot);
        try
        {
            await RunIpAsync(["netns", "add", name], null);
            await RunIpAsync(["-n", Hub, "-batch", "-"],
                $"link add s{slot} type veth peer name eth0 netns {name}\naddr add {hubAddress}/30 dev s{slot}\nlink set s{slot} up\n");
            await RunIpAsync(["-n", name, "-batch", "-"], $"addr add {sandboxAddress}/30 dev eth0\nlink set eth0 up\nlink set lo up\n");
            var handle = NetworkNamespace.Open(Path.Join(NamespaceDirectory, name));
            var session = new EgressSession(policy);
            proxy.Add(sandboxAddress, session);
            return new EgressAttachment(this, name, slot, sandboxAddress, hubAddress, handle, session);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            await RemoveAsync(name, slot);
            throw new SandboxException("network_unavailable", $"Cannot give the sandbox its network: {e.Message}");
        }
    }

    internal async Task DetachAsync(EgressAttachment attachment)
    {
        _proxy?.Remove(attachment.SandboxAddress);
        await RemoveAsync(attachment.Name, attachment.Slot);
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        RemoveLeftovers();
        _starting.Dispose();
    }

    private async Task<EgressProxy> StartAsync(CancellationToken cancellationToken)
    {
        if (_proxy is { } started)
        {
            return started;
        }
        await _starting.WaitAsync(cancellationToken);
        try
        {
            if (_proxy is null)
            {
                await RunIpAsync(["netns", "add", Hub], null);
                await RunIpAsync(["-n", Hub, "link", "set", "lo", "up"], null);
                using var hub = NetworkNamespace.Open(Path.Join(NamespaceDirectory, Hub));
                var listener = NetworkNamespace.RunIn(hub, () =>
                {
                    // Nothing in here speaks IPv6, and the sandboxes' link-local addresses should reach nothing either.
                    File.WriteAllText("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
                    File.WriteAllText("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    socket.Bind(new IPEndPoint(IPAddress.Any, ProxyPort));
                    socket.Listen(512);
                    return socket;
                });
                var forbidden = new ForbiddenAddresses(_options.AllowedPrivateRanges, _options.ForbiddenAddresses);
                var proxy = new EgressProxy(listener, new DnsClient(_options.Resolver, _options.ResolveTimeout), forbidden, _logger);
                proxy.Start();
                _proxy = proxy;
                LogStarted(_logger, Hub);
            }
            return _proxy;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            throw new SandboxException("network_unavailable", $"Cannot start the worker's egress proxy: {e.Message}");
        }
        finally
        {
            _starting.Release();
        }
    }

    private int TakeSlot()
    {
        lock (_slots)
        {
            // Round robin, so a slot whose namespace lingers (a process still held it) is the last to come back.
            for (var tried = 0; tried < _slotCount; tried++)
            {
                var slot = _nextSlot;
                _nextSlot = (_nextSlot + 1) % _slotCount;
                if (_used.Add(slot))
                {
                    return slot;
                }
            }
        }
        throw new SandboxException("network_unavailable", $"All {_slotCount} sandbox network slots are in use.");
    }

    private (IPAddress Hub, IPAddress Sandbox) Addresses(int slot)
    {
        var bytes = new byte[4];
        var start = _rangeStart + (uint)(slot * 4);
        BinaryPrimitives.WriteUInt32BigEndian(bytes, start + 1);
        var hub = new IPAddress(bytes);
        BinaryPrimitives.WriteUInt32BigEndian(bytes, start + 2);
        return (hub, new IPAddress(bytes));
    }

    private async Task RemoveAsync(string name, int slot)
    {
        try
        {
            if (File.Exists(Path.Join(NamespaceDirectory, name)))
            {
                await RunIpAsync(["netns", "delete", name], null);
            }
        }
        catch (IOException e)
        {
            LogRemoveFailed(_logger, name, e.Message);
        }
        finally
        {
            lock (_slots)
            {
                _used.Remove(slot);
            }
        }
    }

    private void RemoveLeftovers()
    {
        var names = Namespaces();
        if (names.Count == 0)
        {
            return;
        }
        try
        {
            RunIpAsync(["-force", "-batch", "-"], string.Concat(names.Select(n => $"netns delete {n}\n"))).GetAwaiter().GetResult();
            LogLeftoversRemoved(_logger, names.Count);
        }
        catch (IOException e)
        {
            LogRemoveFailed(_logger, string.Join(", ", names), e.Message);
        }
    }

    private async Task RunIpAsync(string[] arguments, string? input)
    {
        var start = new ProcessStartInfo(_ip)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new IOException("Cannot start ip.");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new IOException($"ip {string.Join(' ', arguments)} exited with {process.ExitCode}: {(await error).Trim()}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox egress: the proxy listens in network namespace {Namespace}")]
    private static partial void LogStarted(ILogger logger, string @namespace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the sandbox network namespace {Namespace}: {Reason}")]
    private static partial void LogRemoveFailed(ILogger logger, string @namespace, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} sandbox network namespaces left behind by a worker that did not exit cleanly")]
    private static partial void LogLeftoversRemoved(ILogger logger, int count);
}
