using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.Testing;

namespace Kennel.Tests.Agents;

/// <summary>The Anthropic Messages provider against a local server that speaks its streaming wire format.</summary>
public sealed class AnthropicProviderTests
{
    private static readonly (string?, string)[] ToolUseStream =
    [
        ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"output_tokens":1,"cache_read_input_tokens":10,"cache_creation_input_tokens":5}}}"""),
        ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me look."}}"""),
        ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"exec","input":{}}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\": "}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"ls -la\"}"}}"""),
        ("content_block_stop", """{"type":"content_block_stop","index":1}"""),
        ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}"""),
        ("message_stop", """{"type":"message_stop"}"""),
    ];

    [Fact]
    public async Task Streams_text_a_tool_use_and_usage()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolUseStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5"));

        response.Text.ShouldBe("Let me look.");
        var call = ProviderCalls.ToolCall(response);
        call.Name.ShouldBe("exec");
        call.CallId.ShouldBe("toolu_1");
        call.Arguments!["command"]!.ToString().ShouldBe("ls -la");
        TokenUsage.From(response.Usage).ShouldBe(new TokenUsage(Input: 50, Output: 30, CacheRead: 10, CacheWrite: 5));
        var (path, headers, body) = server.Requests.Single();
        path.ShouldBe("/v1/messages");
        headers.Authorization.ToString().ShouldBe($"Bearer {ProviderCalls.Key}"); // how SDK 13.x sends an API key
        var request = JsonDocument.Parse(body).RootElement;
        request.GetProperty("model").GetString().ShouldBe("claude-sonnet-4-5");
        request.GetProperty("stream").GetBoolean().ShouldBeTrue();
        request.GetProperty("tools")[0].GetProperty("name").GetString().ShouldBe("exec");
        request.TryGetProperty("thinking", out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(ThinkingLevel.Minimal, "low")]
    [InlineData(ThinkingLevel.Medium, "medium")]
    [InlineData(ThinkingLevel.High, "high")]
    public async Task Sends_the_thinking_level_as_adaptive_thinking_with_an_effort(ThinkingLevel level, string effort)
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEvents(ToolUseStream);

        await ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5"), level);

        var request = JsonDocument.Parse(server.Requests.Single().Body).RootElement;
        request.GetProperty("thinking").GetProperty("type").GetString().ShouldBe("adaptive");
        request.GetProperty("output_config").GetProperty("effort").GetString().ShouldBe(effort);
    }

    [Fact]
    public async Task Waits_out_a_429_with_retry_after_then_answers()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenStatus(429, """{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}""", ("Retry-After", "1"))
            .ThenEvents(ToolUseStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5"));

        ProviderCalls.ToolCall(response).Name.ShouldBe("exec");
        server.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_500_then_an_answer_succeeds()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenStatus(500, """{"type":"error","error":{"type":"api_error","message":"oops"}}""").ThenEvents(ToolUseStream);

        var response = await ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5"));

        response.Text.ShouldBe("Let me look.");
        server.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_stream_cut_in_the_middle_is_a_provider_error_without_the_key()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenEventsAndCut(ToolUseStream[..6]);

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5")));

        failure.Code.ShouldBe("provider_error");
        failure.Message.ShouldContain("anthropic");
        failure.ToString().ShouldNotContain(ProviderCalls.Key);
    }

    [Fact]
    public async Task A_refusal_fails_at_once_as_a_provider_error()
    {
        await using var server = await ScriptedProvider.StartAsync();
        server.ThenStatus(401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""");

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            ProviderCalls.StreamAsync(ProviderCalls.Client(server.Url, ProviderKind.Anthropic, "claude-sonnet-4-5")));

        failure.Code.ShouldBe("provider_error");
        server.Requests.Count.ShouldBe(1);
    }
}
