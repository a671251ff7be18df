using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.Bench.Agents;

/// <summary>
/// An OpenAI-compatible provider on loopback for the agent benchmarks: every chat completion is answered "Hello!" after
/// <see cref="Delay"/>, streamed as the API streams it (or as one body), with usage; except that a last user message
/// <c>exec: COMMAND</c> is answered with a call of the <c>exec</c> tool running COMMAND (a turn with one tool call). It keeps the size of each prompt it
/// was sent (the messages' text and the tool schemas) and the time it held each request, so a benchmark can subtract
/// the model's time from a turn and report what a system sends for "say hello".
/// </summary>
internal sealed class LocalProvider : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly List<PromptSize> prompts = [];
    private readonly List<double> heldMs = [];

    private LocalProvider(WebApplication app, Uri url, TimeSpan delay)
    {
        this.app = app;
        Url = url;
        Delay = delay;
    }

    /// <summary>The OpenAI base URL, <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public Uri Url { get; }

    /// <summary>How long the "model" takes before it answers; settable between phases of a benchmark.</summary>
    public TimeSpan Delay { get; set; }

    public static async Task<LocalProvider> StartAsync(TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalProvider? provider = null;
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "stub", @object = "model" } } }));
        app.MapPost("/v1/chat/completions", context => provider!.AnswerAsync(context));
        await app.StartAsync();
        provider = new LocalProvider(app, new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}/v1"), delay);
        return provider;
    }

    public IReadOnlyList<PromptSize> Prompts
    {
        get
        {
            lock (gate)
            {
                return [.. prompts];
            }
        }
    }

    /// <summary>The provider's own time per request (from the request's arrival to its last byte), in ms.</summary>
    public IReadOnlyList<double> HeldMs
    {
        get
        {
            lock (gate)
            {
                return [.. heldMs];
            }
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            prompts.Clear();
            heldMs.Clear();
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = await JsonDocument.ParseAsync(context.Request.Body);
        var root = request.RootElement;
        var size = PromptSize.Of(root);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }
        var model = root.TryGetProperty("model", out var m) ? m.GetString() : "stub";
        var usage = new { prompt_tokens = size.Characters / 4, completion_tokens = 2, total_tokens = (size.Characters / 4) + 2 };
        if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            context.Response.ContentType = "text/event-stream";
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            object Chunk(object delta, string? finish) =>
                new { id = "c1", @object = "chat.completion.chunk", created, model, choices = new object[] { new { index = 0, delta, finish_reason = finish } } };
            if (ExecCommand(root) is { } command)
            {
                var call = new { index = 0, id = $"call_{Guid.NewGuid():N}", type = "function", function = new { name = "exec", arguments = JsonSerializer.Serialize(new { command }) } };
                await WriteEventAsync(context, Chunk(new { role = "assistant", tool_calls = new[] { call } }, null));
                await WriteEventAsync(context, Chunk(new { }, "tool_calls"));
            }
            else
            {
                await WriteEventAsync(context, Chunk(new { role = "assistant", content = "Hello!" }, null));
                await WriteEventAsync(context, Chunk(new { }, "stop"));
            }
            await WriteEventAsync(context, new { id = "c1", @object = "chat.completion.chunk", created, model, choices = Array.Empty<object>(), usage });
            await context.Response.WriteAsync("data: [DONE]\n\n");
        }
        else
        {
            await context.Response.WriteAsJsonAsync(new
            {
                id = "c1",
                @object = "chat.completion",
                created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                model,
                choices = new object[] { new { index = 0, message = new { role = "assistant", content = "Hello!" }, finish_reason = "stop" } },
                usage
            });
        }
        await context.Response.CompleteAsync();
        lock (gate)
        {
            prompts.Add(size);
            heldMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>The command of a last message <c>exec: COMMAND</c> from the user; null once the tool has answered.</summary>
    private static string? ExecCommand(JsonElement request)
    {
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return null;
        }
        var last = messages[messages.GetArrayLength() - 1];
        return last.TryGetProperty("role", out var role) && role.GetString() == "user"
            && last.TryGetProperty("content", out var content) && TextOf(content) is { } text && text.StartsWith("exec: ", StringComparison.Ordinal)
            ? text["exec: ".Length..]
            : null;
    }

    /// <summary>A message's text: the string, or its text parts joined (the SDKs send either).</summary>
    private static string? TextOf(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString(),
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Where(part => part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out _))
            .Select(part => part.GetProperty("text").GetString())),
        _ => null,
    };

    private static Task WriteEventAsync(HttpContext context, object chunk) =>
        context.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n", Encoding.UTF8);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>What one prompt carried: its messages, their text, and its tool schemas.</summary>
internal sealed record PromptSize(int Messages, int MessageCharacters, int Tools, int ToolCharacters)
{
    public int Characters => MessageCharacters + ToolCharacters;

    /// <summary>A rough token estimate, 4 characters a token, as the usual rule of thumb for English text and JSON.</summary>
    public int EstimatedTokens => (Characters + 3) / 4;

    public static PromptSize Of(JsonElement request)
    {
        var messages = request.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array ? m : default;
        var tools = request.TryGetProperty("tools", out var t) && t.ValueKind == JsonValueKind.Array ? t : default;
        var messageCharacters = 0;
        var count = 0;
        if (messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                count++;
                if (message.TryGetProperty("content", out var content))
                {
                    messageCharacters += content.ValueKind == JsonValueKind.String ? content.GetString()!.Length : content.GetRawText().Length;
                }
            }
        }
        return new PromptSize(count, messageCharacters, tools.ValueKind == JsonValueKind.Array ? tools.GetArrayLength() : 0,
            tools.ValueKind == JsonValueKind.Array ? tools.GetRawText().Length : 0);
    }
}
