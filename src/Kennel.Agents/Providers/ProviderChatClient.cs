using System.Runtime.CompilerServices;
using Kennel.Agents.Models;
using Microsoft.Extensions.AI;
using ChatCompletionOptions = OpenAI.Chat.ChatCompletionOptions;
using ChatReasoningEffortLevel = OpenAI.Chat.ChatReasoningEffortLevel;

namespace Kennel.Agents.Providers;

/// <summary>
/// What Kennel adds around an SDK's chat client: the thinking level in each API's own parameter, and one kind of failure.
/// Whatever goes wrong below (an HTTP error after the retries, a cut or malformed stream, a stream that ends without the
/// model saying it finished) surfaces as a <see cref="ProviderException"/> with code <c>provider_error</c> naming the
/// provider; a cancellation by the caller stays a cancellation.
/// </summary>
public sealed class ProviderChatClient(IChatClient inner, ProviderSettings provider, ModelInfo model) : DelegatingChatClient(inner)
{
    /// <summary>The key under <see cref="ChatOptions.AdditionalProperties"/> that carries the turn's <see cref="ThinkingLevel"/>.</summary>
    public const string ThinkingProperty = "kennel.thinking";

    public ModelInfo Model => model;

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await base.GetResponseAsync(messages, WithThinking(options), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failure) when (Wrappable(failure, cancellationToken))
        {
            throw Failed(failure);
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var finished = false;
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = base.GetStreamingResponseAsync(messages, WithThinking(options), cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception failure) when (Wrappable(failure, cancellationToken))
        {
            throw Failed(failure);
        }
        await using (updates.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception failure) when (Wrappable(failure, cancellationToken))
                {
                    throw Failed(failure);
                }
                finished |= updates.Current.FinishReason is not null;
                yield return updates.Current;
            }
        }
        if (!finished)
        {
            throw new ProviderException($"The answer from {provider} ({model.Id}) stopped before the model said it had finished: the stream was cut or malformed.");
        }
    }

    /// <summary>The options with the thinking level in the form this provider's API takes; <c>off</c> sends nothing.</summary>
    private ChatOptions? WithThinking(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.TryGetValue(ThinkingProperty, out var value) != true || value is not ThinkingLevel level
            || level == ThinkingLevel.Off || !model.SupportsThinking)
        {
            return options;
        }
        var result = options.Clone();
        if (provider.Kind == ProviderKind.OpenAI)
        {
            // Microsoft.Extensions.AI has no "minimal"; Chat Completions' own reasoning_effort has.
            var effort = level switch
            {
                ThinkingLevel.Minimal => ChatReasoningEffortLevel.Minimal,
                ThinkingLevel.Low => ChatReasoningEffortLevel.Low,
                ThinkingLevel.Medium => ChatReasoningEffortLevel.Medium,
                _ => ChatReasoningEffortLevel.High,
            };
#pragma warning disable OPENAI001 // reasoning_effort is marked experimental in the SDK, though the API has it for every reasoning model.
            result.RawRepresentationFactory = _ => new ChatCompletionOptions { ReasoningEffortLevel = effort };
#pragma warning restore OPENAI001
        }
        else
        {
            // Anthropic's effort has no "minimal" either: it thinks at its lowest.
            result.Reasoning = new ReasoningOptions
            {
                Effort = level switch
                {
                    ThinkingLevel.Minimal or ThinkingLevel.Low => ReasoningEffort.Low,
                    ThinkingLevel.Medium => ReasoningEffort.Medium,
                    _ => ReasoningEffort.High,
                },
            };
        }
        return result;
    }

    private static bool Wrappable(Exception failure, CancellationToken cancellationToken) =>
        failure is not ProviderException && !(failure is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ProviderException Failed(Exception failure) =>
        new($"The model call to {provider} ({model.Id}) failed: {failure.Message}", failure);
}
