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
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

[AgentTool]
public static class ChatSendTool
{
    public const int DefaultWaitSeconds = 50;
    public const int MaxWaitSeconds = 300;

    [McpServerTool(Name = "chat_send", Title = "Send a message and wait for the answer", ReadOnly = false, Destructive = false, Idempotent = false,
        OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(Run))]
    [RequiresScope(Scopes.Chat)]
    [Description("Sends a message to an agent in a session and waits for the answer (one run). If the run outlasts waitSeconds it " +
        "returns with status running and its runId: continue with chat_run_get. With a progress token, the answer's text and each " +
        "tool call stream as progress notifications.")]
    public static async Task<CallToolResult> Run(
        RunService runs,
        ClaimsPrincipal user,
        RequestContext<CallToolRequestParams> request,
        [Description("The message to the agent."), MinLength(1), MaxLength(ConversationValidator.MaxMessageLength)] string message,
        [Description(ChatToolText.SessionDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? session = null,
        [Description(ChatToolText.AgentDescription), MinLength(1), MaxLength(ChatToolText.MaxIdLength)] string? agent = null,
        [Description("How long to wait for the answer before returning the running run."), Range(1, MaxWaitSeconds)] int waitSeconds = DefaultWaitSeconds,
        CancellationToken cancellationToken = default)
    {
        var caller = Caller.From(user);
        var run = await runs.StartAsync(caller, session, agent, message, cancellationToken);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(waitSeconds));
        try
        {
            var step = 0;
            await foreach (var update in runs.FollowAsync(caller, run.Id, wait.Token))
            {
                // Sent and awaited in order, so every notification leaves before the answer that ends a stateless POST.
                if (request.Params?.ProgressToken is { } token)
                {
                    await request.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = ++step, Message = Describe(update) },
                        cancellationToken: cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The wait ran out; the run goes on and is returned as it stands.
        }
        run = await runs.GetAsync(caller, run.Id, cancellationToken);
        var result = ToolResults.Of(run, KennelJson.Default.Run, ChatToolText.Run(run));
        result.IsError = run.Status is RunStatus.Failed or RunStatus.TimedOut;
        return result;
    }

    private static string Describe(RunEvent update) => update.Kind switch
    {
        RunEventKinds.Text => update.Text ?? "",
        RunEventKinds.ToolStart => $"[tool {update.Tool} started]",
        RunEventKinds.ToolEnd => $"[tool {update.Tool} {(update.IsError == true ? "failed" : "done")}]",
        _ => update.Kind,
    };
}
