using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Conversations;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Runs;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChatSendAsyncTool
{
    [McpServerTool(Name = "chat_send_async", Title = "Send a message without waiting", ReadOnly = false, Destructive = false, Idempotent = false,
        OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(Run))]
    [RequiresScope(Scopes.Chat)]
    [Description("Queues a message to an agent in a session and returns its runId at once. Poll with chat_run_get; stop it with chat_run_cancel.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ClaimsPrincipal user,
        [Description("The message to the agent."), MinLength(1), MaxLength(ConversationValidator.MaxMessageLength)] string message,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        CancellationToken cancellationToken = default)
    {
        var run = await runs.StartAsync(Caller.From(user), session, agent, message, cancellationToken);
        return ToolResults.Of(run, KennelJson.Default.Run, $"Run {run.Id} {run.Status.ToWire()} in session {run.ConversationId}.");
    }
}
