using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Kennel.Agents.Models;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Kennel.Agents.Providers;

/// <summary>
/// Makes the <see cref="IChatClient"/> for a provider and a model: the official SDK's client behind
/// <see cref="ProviderChatClient"/>, all sharing one <see cref="HttpClient"/> whose <see cref="ProviderRetryHandler"/> is
/// the only retry policy (each SDK's own is off).
/// </summary>
public sealed class ChatClientFactory(HttpClient http)
{
    /// <summary>Anthropic requires a ceiling on the answer; this one leaves room for thinking at <c>high</c>.</summary>
    public const int AnthropicMaxOutputTokens = 32_000;

    public IChatClient Create(ProviderSettings provider, ModelInfo model)
    {
        var inner = provider.Kind switch
        {
            ProviderKind.OpenAI => OpenAIChat(provider, model.Id),
            _ => AnthropicChat(provider, model.Id),
        };
        return new ProviderChatClient(inner, provider, model);
    }

    private IChatClient OpenAIChat(ProviderSettings provider, string model)
    {
        var options = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (provider.BaseUrl is { } baseUrl)
        {
            options.Endpoint = baseUrl;
        }
        // A local server (Ollama, llama.cpp) takes no key, but the SDK insists on one; it ignores this one.
        return new OpenAIClient(new ApiKeyCredential(provider.ApiKey ?? "none"), options).GetChatClient(model).AsIChatClient();
    }

    private IChatClient AnthropicChat(ProviderSettings provider, string model)
    {
        // An explicit key, or null: the SDK would otherwise read ANTHROPIC_API_KEY itself and hand the installation's
        // key to a workspace's own base URL.
        var options = new Anthropic.Core.ClientOptions { HttpClient = http, MaxRetries = 0, ApiKey = provider.ApiKey };
        if (provider.BaseUrl is { } baseUrl)
        {
            options.BaseUrl = baseUrl.ToString().TrimEnd('/');
        }
        return new AnthropicClient(options).AsIChatClient(model, AnthropicMaxOutputTokens, AnthropicThinkingMode.Adaptive);
    }
}
