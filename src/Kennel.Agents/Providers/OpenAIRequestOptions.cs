using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

// reasoning_effort is marked experimental in the SDK, though the API has it for every reasoning model.
#pragma warning disable OPENAI001

namespace Kennel.Agents.Providers;

/// <summary>
/// What Kennel sends to Chat Completions itself rather than through Microsoft.Extensions.AI's conversion: the function
/// tools, with each schema written compact (the adapter writes a tool's parameters indented, ~150 characters more per
/// request for <c>exec</c>), and the thinking level as <c>reasoning_effort</c> (the adapter has no <c>minimal</c>).
/// </summary>
internal static class OpenAIRequestOptions
{
    /// <summary>
    /// The options with their function tools moved into the SDK's own request options, compact; the adapter then adds
    /// no tools of its own (it adds <see cref="ChatOptions.Tools"/> to what the factory returns).
    /// </summary>
    public static ChatOptions With(ChatOptions options, ThinkingLevel? thinking)
    {
        var functions = options.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];
        if (functions.Count == 0 && thinking is null)
        {
            return options;
        }
        var result = options.Clone();
        result.Tools = options.Tools?.Where(tool => tool is not AIFunctionDeclaration).ToList() is { Count: > 0 } others ? others : null;
        var tools = functions.Select(function => ChatTool.CreateFunctionTool(function.Name, function.Description, Compact(function.JsonSchema))).ToList();
        result.RawRepresentationFactory = _ =>
        {
            var request = new ChatCompletionOptions { ReasoningEffortLevel = Effort(thinking) };
            foreach (var tool in tools)
            {
                request.Tools.Add(tool);
            }
            return request;
        };
        return result;
    }

    /// <summary>Microsoft.Extensions.AI has no "minimal"; Chat Completions' own <c>reasoning_effort</c> has.</summary>
    private static ChatReasoningEffortLevel? Effort(ThinkingLevel? thinking) => thinking switch
    {
        null => (ChatReasoningEffortLevel?)null,
        ThinkingLevel.Minimal => ChatReasoningEffortLevel.Minimal,
        ThinkingLevel.Low => ChatReasoningEffortLevel.Low,
        ThinkingLevel.Medium => ChatReasoningEffortLevel.Medium,
        _ => ChatReasoningEffortLevel.High,
    };

    private static BinaryData Compact(JsonElement schema) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(schema));
}
