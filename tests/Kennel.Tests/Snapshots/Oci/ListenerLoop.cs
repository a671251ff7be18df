using System.Net;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>Answers an <see cref="HttpListener"/>'s requests one at a time until it stops, for the fakes at the registry tests' edges.</summary>
internal static class ListenerLoop
{
    public static async Task ServeAsync(HttpListener listener, Func<HttpListenerContext, Task> answer)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception failed) when (failed is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var response = context.Response;
            await answer(context);
        }
    }
}
