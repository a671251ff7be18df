using System.Runtime.CompilerServices;
using Kennel.Agents.Models;
using Microsoft.Extensions.AI;

namespace Kennel.Agents.Providers;

/// <summary>
/// What Kennel adds around an SDK's chat client: the thinking level in each API's own parameter, OpenAI's tool schemas
/// compact, and one kind of failure.
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
            return await base.GetResponseAsync(messages, ForProvider(options), cancellationToken).ConfigureAwait(false);
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
            updates = base.GetStreamingResponseAsync(messages, ForProvider(options), cancellationToken).GetAsyncEnumerator(cancellationToken);
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

    /// <summary>
    /// The options in the form this provider's API takes: the thinking level in its own parameter (<c>off</c>, or a model
    /// that does not think, sends nothing), and for OpenAI the tools compact (<see cref="OpenAIRequestOptions"/>).
    /// </summary>
    private ChatOptions? ForProvider(ChatOptions? options)
    {
        if (options is null)
        {
            return null;
        }
        var level = options.AdditionalProperties?.TryGetValue(ThinkingProperty, out var value) == true && value is ThinkingLevel set
            && set != ThinkingLevel.Off && model.SupportsThinking ? set : (ThinkingLevel?)null;
        if (provider.Kind == ProviderKind.OpenAI)
        {
            return OpenAIRequestOptions.With(options, level);
        }
        if (level is null)
        {
            return options;
        }
        // Anthropic's effort has no "minimal" either: it thinks at its lowest.
        var result = options.Clone();
        result.Reasoning = new ReasoningOptions
        {
            Effort = level switch
            {
                ThinkingLevel.Minimal or ThinkingLevel.Low => ReasoningEffort.Low,
                ThinkingLevel.Medium => ReasoningEffort.Medium,
                _ => ReasoningEffort.High,
            },
        };
        return result;
    }

    private static bool Wrappable(Exception failure, CancellationToken cancellationToken) =>
        failure is not ProviderException && !(failure is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ProviderException Failed(Exception failure) =>
        new($"The model call to {provider} ({model.Id}) failed: {failure.Message}", failure);
}
