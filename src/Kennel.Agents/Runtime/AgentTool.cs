using System.Text.Json;

namespace Kennel.Agents.Runtime;

/// <summary>
/// A tool an agent may call: a name, a short description and a tight JSON schema for the model, and one call into a
/// service. Each tool is one small class; cron, channels and skills add theirs to the <see cref="ToolRegistry"/>.
/// </summary>
public interface IAgentTool
{
    string Name { get; }

    /// <summary>One or two sentences for the model. Every character is in the prompt of every turn.</summary>
    string Description { get; }

    JsonElement Schema { get; }

    /// <summary>Runs the call. Bad arguments and failures the model can act on are a <see cref="ToolOutput"/> with IsError.</summary>
    Task<ToolOutput> InvokeAsync(ToolInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>
/// One call of a tool, with where it came from. <see cref="ReservedId"/> was committed with the call before the tool
/// ran: a tool that starts something durable (a sandbox session) starts it under this id, so a resumed run finds it
/// instead of starting it again.
/// </summary>
public sealed record ToolInvocation(string WorkspaceId, string ConversationId, string RunId, string CallId, JsonElement Arguments, string ReservedId);

/// <summary>What a tool call returned, as the model will read it.</summary>
public sealed record ToolOutput(string Text, bool IsError = false)
{
    public static ToolOutput Error(string text) => new(text, true);
}
