using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.Testing;

namespace Kennel.Tests.Agents;

/// <summary>The OpenAI Chat Completions provider against a local server that speaks its streaming wire format.</summary>
public sealed class OpenAIProviderTests
{
    private static (string?, string) Chunk(string delta, string? finish = null) => (null,
        $$"""{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-5-mini","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""");

    private static readonly (string?, string)[] ToolCallStream =
    [
        Chunk("""{"role":"assistant","content":"Let me "}"""),
        Chunk("""{"content":"look."}"""),
        Chunk("""{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"exec","arguments":""}}]}"""),
        Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]}"""),
        Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":" \"ls -la\"}"}}]}"""),
        Chunk("{}", "tool_calls"),
        (null, """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-5-mini","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":40}}}"""),
        (null, "[DONE]"),
    ];

    [Fact]
    public async Task Streams_text_a_tool_call_and_usage()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini"));

        response.Text.ShouldBe("Let me look.");
        var call = ProviderCalls.ToolCall(response);
        call.Name.ShouldBe("exec");
        call.CallId.ShouldBe("call_1");
        call.Arguments!["command"]!.ToString().ShouldBe("ls -la");
        TokenUsage.From(response.Usage).ShouldBe(new TokenUsage(Input: 60, Output: 20, CacheRead: 40, CacheWrite: 0));
        var (path, headers, body) = server.Requests.Single();
        path.ShouldBe("/v1/chat/completions");
        headers.Authorization.ToString().ShouldBe($"Bearer {ProviderCalls.Key}");
        var request = JsonDocument.Parse(body).RootElement;
        request.GetProperty("model").GetString().ShouldBe("gpt-5-mini");
        request.GetProperty("stream").GetBoolean().ShouldBeTrue();
        request.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString().ShouldBe("exec");
        request.TryGetProperty("reasoning_effort", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Sends_the_tool_schema_compact_and_reads_the_tool_call()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini"),
            ThinkingLevel.Low);

        ProviderCalls.ToolCall(response).Arguments!["command"]!.ToString().ShouldBe("ls -la");
        var body = server.Requests.Single().Body;
        body.ShouldContain("""
            "tools":[{"type":"function","function":{"description":"Run a shell command.","name":"exec","parameters":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}}]
            """);
        body.ShouldNotContain("\n");
        JsonDocument.Parse(body).RootElement.GetProperty("reasoning_effort").GetString().ShouldBe("low");
    }

    [Theory]
    [InlineData(ThinkingLevel.Minimal, "minimal")]
    [InlineData(ThinkingLevel.Low, "low")]
    [InlineData(ThinkingLevel.Medium, "medium")]
    [InlineData(ThinkingLevel.High, "high")]
    public async Task Sends_the_thinking_level_as_reasoning_effort(ThinkingLevel level, string effort)
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream);

        await ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini"), level);

        JsonDocument.Parse(server.Requests.Single().Body).RootElement.GetProperty("reasoning_effort").GetString().ShouldBe(effort);
    }

    [Fact]
    public async Task Sends_no_reasoning_effort_to_a_model_that_does_not_think()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream);

        await ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-4o-mini"), ThinkingLevel.High);

        JsonDocument.Parse(server.Requests.Single().Body).RootElement.TryGetProperty("reasoning_effort", out _).ShouldBeFalse();
    }

    [Fact]
    public Task Waits_out_a_429_with_retry_after_then_answers() =>
        AnswersOnTheSecondAttemptAsync(server => server.ThenStatus(429, """{"error":{"message":"slow down","type":"rate_limit"}}""", ("Retry-After", "1")));

    [Fact]
    public Task A_connection_dropped_before_the_answer_is_retried() =>
        AnswersOnTheSecondAttemptAsync(server => server.Then(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        }));

    [Fact]
    public async Task A_500_that_persists_fails_as_provider_error_after_the_bounded_retries()
    {
        await using var server = await ScriptedProvider.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            server.ThenStatus(500, """{"error":{"message":"upstream exploded","type":"server_error"}}""");
        }

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini", maxAttempts: 3)));

        failure.Code.ShouldBe("provider_error");
        failure.Message.ShouldContain("openai");
        failure.ToString().ShouldNotContain(ProviderCalls.Key);
        server.Requests.Count.ShouldBe(3);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_ceiling_fails_at_once()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenStatus(429, """{"error":{"message":"quota","type":"rate_limit"}}""", ("Retry-After", "3600")).ThenEvents(ToolCallStream);

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini")));

        failure.Code.ShouldBe("provider_error");
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_stream_cut_in_the_middle_is_a_provider_error()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEventsAndCut(ToolCallStream[..3]);

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini")));

        failure.Code.ShouldBe("provider_error");
    }

    [Fact]
    public async Task A_stream_that_ends_before_the_model_finished_is_a_provider_error()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream[..2]);

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini")));

        failure.Message.ShouldContain("stopped before the model said it had finished");
    }

    [Fact]
    public async Task A_malformed_chunk_is_a_provider_error()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolCallStream[0], (null, "{not json"));

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini")));

        failure.Code.ShouldBe("provider_error");
    }

    /// <summary>The first attempt fails as <paramref name="firstReply"/> scripts it; the retry gets the answer.</summary>
    private static async Task AnswersOnTheSecondAttemptAsync(Action<ScriptedProvider> firstReply)
    {
        await using var server = await ScriptedProvider.StartAsync();
        firstReply(server);
        server.ThenEvents(ToolCallStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(new Uri(server.Url, "v1"), ProviderKind.OpenAI, "gpt-5-mini"));

        response.Text.ShouldBe("Let me look.");
        server.Requests.Count.ShouldBe(2);
    }
}
