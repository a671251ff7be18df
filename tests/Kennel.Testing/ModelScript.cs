using System.Text.Json;

namespace Kennel.Testing;

/// <summary>Scripted OpenAI Chat Completions streams for <see cref="ScriptedProvider"/>: an answer, or a call of a tool.</summary>
public static class ModelScript
{
    public const string Model = "gpt-5-mini";

    public static (string?, string) Chunk(string delta, string? finish = null) => (null,
        $$"""{"id":"c1","object":"chat.completion.chunk","created":1,"model":"{{Model}}","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""");

    public static (string?, string) Usage(int input, int output) => (null,
        $$$"""{"id":"c1","object":"chat.completion.chunk","created":1,"model":"{{{Model}}}","choices":[],"usage":{"prompt_tokens":{{{input}}},"completion_tokens":{{{output}}},"total_tokens":{{{input + output}}}}}""");

    public static (string?, string) Text(string text) => Chunk($$"""{"role":"assistant","content":{{JsonSerializer.Serialize(text)}}}""");

    /// <summary>A complete answer without tools.</summary>
    public static (string?, string)[] Answer(string text) => [Text(text), Chunk("{}", "stop"), Usage(100, 10), (null, "[DONE]")];

    /// <summary>A complete step that calls <c>exec</c> with <paramref name="command"/>.</summary>
    public static (string?, string)[] Exec(string callId, string command) =>
        Call(callId, "exec", new Dictionary<string, string> { ["command"] = command });

    /// <summary>A complete step that calls <paramref name="tool"/> with these string arguments.</summary>
    public static (string?, string)[] Call(string callId, string tool, IReadOnlyDictionary<string, string> arguments)
    {
        var encoded = JsonSerializer.Serialize(JsonSerializer.Serialize(arguments));
        return
        [
            Chunk($$$"""{"role":"assistant","tool_calls":[{"index":0,"id":"{{{callId}}}","type":"function","function":{"name":"{{{tool}}}","arguments":{{{encoded}}}}}]}"""),
            Chunk("{}", "tool_calls"),
            Usage(120, 20),
            (null, "[DONE]"),
        ];
    }

    /// <summary>Sends <paramref name="text"/> and then holds the stream open until the client goes away.</summary>
    public static ScriptedProvider ThenTextAndHang(this ScriptedProvider provider, string text) => provider.Then(async context =>
    {
        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync($"data: {Text(text).Item2}\n\n");
        await context.Response.Body.FlushAsync();
        await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    });
}
