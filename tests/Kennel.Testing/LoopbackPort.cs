using System.Net;
using System.Net.Sockets;

namespace Kennel.Testing;

/// <summary>A loopback port nobody listens on right now, for a <c>kennel serve</c> of a test's own.</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
