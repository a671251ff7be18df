using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kennel.Testing.Egress;

/// <summary>A DNS server on the host's loopback that answers A and AAAA questions from a fixed table, and counts what it was asked.</summary>
public sealed class TestResolver : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IReadOnlyDictionary<string, IPAddress[]> _names;
    private readonly CancellationTokenSource _stop = new();
    private int _questions;

    public TestResolver(IReadOnlyDictionary<string, IPAddress[]> names)
    {
        _names = names;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _ = ServeAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public int Questions => Volatile.Read(ref _questions);

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[512];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _questions);
            var answer = Answer(buffer.AsSpan(0, received.ReceivedBytes));
            await _socket.SendToAsync(answer, received.RemoteEndPoint);
        }
    }

    private byte[] Answer(ReadOnlySpan<byte> query)
    {
        var labels = new List<string>();
        var at = 12;
        while (query[at] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query.Slice(at + 1, query[at])));
            at += query[at] + 1;
        }
        var type = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 1)..]);
        var question = query[12..(at + 5)];
        var family = type == 28 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var records = (_names.GetValueOrDefault(string.Join('.', labels).ToLowerInvariant()) ?? []).Where(a => a.AddressFamily == family).ToList();
        var reply = new List<byte>();
        reply.AddRange([query[0], query[1], 0x81, 0x80, 0, 1, 0, (byte)records.Count, 0, 0, 0, 0]);
        reply.AddRange(question.ToArray());
        foreach (var record in records)
        {
            var data = record.GetAddressBytes();
            reply.AddRange([0xC0, 0x0C, 0, (byte)type, 0, 1, 0, 0, 0, 5, 0, (byte)data.Length]);
            reply.AddRange(data);
        }
        return [.. reply];
    }
}
