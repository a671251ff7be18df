using System.Text.Json;
using Kennel.Agents.Models;
using Kennel.Agents.Providers;
using Microsoft.Extensions.AI;

namespace Kennel.Tests.Agents;

/// <summary>Calls a provider the way a run will: through <see cref="ChatClientFactory"/>, streaming, with one tool.</summary>
internal static class ProviderCalls
{
    public const string Key = "sk-test-DO-NOT-LOG-4242";

    public static readonly AIFunctionDeclaration Exec = AIFunctionFactory.CreateDeclaration("exec", "Run a shell command.",
        JsonDocument.Parse("""{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}""").RootElement);

    public static IChatClient Client(Uri baseUrl, ProviderKind kind, string model, int maxAttempts = 4) =>
        new ChatClientFactory(new HttpClient(new ProviderRetryHandler(TimeProvider.System)
        {
            InnerHandler = new SocketsHttpHandler(),
            MaxAttempts = maxAttempts,
            FirstBackoff = TimeSpan.FromMilliseconds(10),
            MaxDelay = TimeSpan.FromSeconds(5),
        })).Create(new ProviderSettings(kind.Name(), kind, baseUrl, Key), ModelCatalogue.Shipped.Find(new ModelRef(kind.Name(), model)));

    public static async Task<ChatResponse> StreamAsync(IChatClient client, ThinkingLevel thinking = ThinkingLevel.Off)
    {
        var options = new ChatOptions
        {
            Tools = [Exec],
            AdditionalProperties = new() { [ProviderChatClient.ThinkingProperty] = thinking },
        };
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "list the files")], options))
        {
            updates.Add(update);
        }
        return updates.ToChatResponse();
    }

    public static FunctionCallContent ToolCall(ChatResponse response) =>
        response.Messages.SelectMany(message => message.Contents).OfType<FunctionCallContent>().Single();
}
