using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kennel.Sandbox.Network;

/// <summary>
/// Resolves the names sandboxes ask for, on the worker: with the system's resolver, or with the DNS server given (UDP,
/// A and AAAA), so an installation or a test can point sandboxes' names at a resolver of its own.
/// </summary>
public sealed class DnsClient(IPEndPoint? server, TimeSpan timeout)
{
    private const ushort TypeA = 1;
    private const ushort TypeAaaa = 28;
    private const int MaxMessageBytes = 1232;

    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (server is null)
            {
                return await Dns.GetHostAddressesAsync(host, deadline.Token);
            }
            var answers = await Task.WhenAll(QueryAsync(server, host, TypeA, deadline.Token), QueryAsync(server, host, TypeAaaa, deadline.Token));
            return [.. answers.SelectMany(a => a)];
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return [];
        }
    }

    private static async Task<List<IPAddress>> QueryAsync(IPEndPoint server, string host, ushort type, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var id = (ushort)Random.Shared.Next(ushort.MaxValue);
        await socket.ConnectAsync(server, cancellationToken);
        await socket.SendAsync(Query(id, host, type), cancellationToken);
        var buffer = new byte[MaxMessageBytes];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read >= 12 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
            {
                return Answers(buffer.AsSpan(0, read), type);
            }
        }
    }

    private static byte[] Query(ushort id, string host, ushort type)
    {
        var message = new List<byte>(32 + host.Length);
        message.AddRange([(byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        foreach (var label in host.Split('.'))
        {
            message.Add((byte)label.Length);
            message.AddRange(Encoding.ASCII.GetBytes(label));
        }
        message.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        return [.. message];
    }

    // The answer records of the wanted type; a malformed reply is no answer.
    private static List<IPAddress> Answers(ReadOnlySpan<byte> reply, ushort type)
    {
        var found = new List<IPAddress>();
        var questions = BinaryPrimitives.ReadUInt16BigEndian(reply[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(reply[6..]);
        var at = 12;
        for (var i = 0; i < questions; i++)
        {
            at = SkipName(reply, at) + 4;
        }
        for (var i = 0; i < answers && at > 0 && at + 10 <= reply.Length; i++)
        {
            at = SkipName(reply, at);
            if (at < 0 || at + 10 > reply.Length)
            {
                break;
            }
            var recordType = BinaryPrimitives.ReadUInt16BigEndian(reply[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(reply[(at + 8)..]);
            at += 10;
            if (at + length > reply.Length)
            {
                break;
            }
            if (recordType == type && length == (type == TypeA ? 4 : 16))
            {
                found.Add(new IPAddress(reply.Slice(at, length)));
            }
            at += length;
        }
        return found;
    }

    private static int SkipName(ReadOnlySpan<byte> message, int at)
    {
        while (at >= 0 && at < message.Length)
        {
            var length = message[at];
            if (length == 0)
            {
                return at + 1;
            }
            if ((length & 0xC0) == 0xC0)
            {
                return at + 2;
            }
            at += length + 1;
        }
        return -1;
    }
}
