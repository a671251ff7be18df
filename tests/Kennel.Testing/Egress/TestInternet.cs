using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kennel.Sandbox.Network;

namespace Kennel.Testing.Egress;

/// <summary>
/// A stand-in for the internet: a network namespace of its own, linked to the host by a veth pair, where an HTTP server
/// (port 80) and an HTTPS server (port 443, a self-signed certificate) answer every name with what they were asked
/// (<c>https allowed.test /path</c>). <c>/big</c> answers 256 KiB. Its address is in a private range, so the worker
/// is told to allow that range, as an admin would allow an internal mirror's.
/// </summary>
public sealed class TestInternet : IDisposable
{
    public const int BigBytes = 256 * 1024;
    private readonly string _namespace;
    private readonly Socket _http;
    private readonly Socket _https;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();

    public TestInternet()
    {
        var id = RandomNumberGenerator.GetInt32(1, 16000);
        _namespace = $"kt-inet-{id}";
        var third = id / 64;
        var fourth = id % 64 * 4;
        HostAddress = IPAddress.Parse($"10.77.{third}.{fourth + 1}");
        Address = IPAddress.Parse($"10.77.{third}.{fourth + 2}");
        Range = new IPNetwork(IPAddress.Parse($"10.77.{third}.{fourth}"), 30);
        var link = $"kti{id}";
        Ip("netns", "add", _namespace);
        Ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", _namespace);
        Ip("addr", "add", $"{HostAddress}/30", "dev", link);
        Ip("link", "set", link, "up");
        Ip("-n", _namespace, "addr", "add", $"{Address}/30", "dev", "eth0");
        Ip("-n", _namespace, "link", "set", "eth0", "up");
        Ip("-n", _namespace, "link", "set", "lo", "up");

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var selfSigned = new CertificateRequest("CN=test internet", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        using var inside = NetworkNamespace.Open($"/run/netns/{_namespace}");
        _http = NetworkNamespace.RunIn(inside, () => Listen(80));
        _https = NetworkNamespace.RunIn(inside, () => Listen(443));
        _ = AcceptAsync(_http, tls: false);
        _ = AcceptAsync(_https, tls: true);
    }

    /// <summary>The servers' address.</summary>
    public IPAddress Address { get; }

    /// <summary>The host's end of the link: an address of the worker's machine, so never reachable from a sandbox.</summary>
    public IPAddress HostAddress { get; }

    public IPNetwork Range { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _http.Dispose();
        _https.Dispose();
        _certificate.Dispose();
        Ip("netns", "delete", _namespace);
        _stop.Dispose();
    }

    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        socket.Listen(64);
        return socket;
    }

    private async Task AcceptAsync(Socket listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = AnswerAsync(client, tls);
        }
    }

    private async Task AnswerAsync(Socket client, bool tls)
    {
        using var owned = client;
        try
        {
            Stream stream = new NetworkStream(client, ownsSocket: false);
            if (tls)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(_certificate);
                stream = ssl;
            }
            await using (stream)
            {
                var head = await ReadHeadAsync(stream);
                var lines = head.Split("\r\n");
                var path = lines[0].Split(' ')[1];
                var host = lines.FirstOrDefault(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))?[5..].Trim().Split(':')[0] ?? "";
                var body = path == "/big" ? new byte[BigBytes] : Encoding.UTF8.GetBytes($"{(tls ? "https" : "http")} {host} {path}\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
                await stream.WriteAsync(body);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or IndexOutOfRangeException)
        {
            // A client that went away, or a refused escape that never sent a request.
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(buffer) == 1)
        {
            head.Append((char)buffer[0]);
        }
        return head.ToString();
    }

    private static void Ip(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error}");
        }
    }
}
