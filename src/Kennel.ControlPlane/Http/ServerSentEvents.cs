using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;

namespace Kennel.ControlPlane.Http;

/// <summary>Server-sent events: a response that is never buffered, and one <c>event:</c>/<c>data:</c> pair per event.</summary>
public static class ServerSentEvents
{
    public static async Task StartAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public static Task WriteAsync<T>(HttpContext context, string name, T value, JsonTypeInfo<T> type) =>
        WriteAsync(context, name, JsonSerializer.Serialize(value, type));

    public static async Task WriteAsync(HttpContext context, string name, string json)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {json}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
