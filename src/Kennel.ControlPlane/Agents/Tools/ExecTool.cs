using System.Text;
using System.Text.Json;
using Kennel.Agents.Runtime;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Skills;

namespace Kennel.ControlPlane.Agents.Tools;

/// <summary>
/// <c>exec</c>: runs a shell command in a fresh sandbox session of the workspace, through the same session service as
/// everything else, so it is listed with the sessions, with the conversation and run it came from in its metadata. The
/// conversation's agent's skills are mounted read-only under <c>/skills/</c>.
/// </summary>
public sealed class ExecTool(SessionService sessions, ConversationStore conversations, SkillMounts skills, SecretStore secrets) : IAgentTool
{
    public const int MaxCommandLength = 64 * 1024;
    public const int MaxTimeoutSeconds = 3600;

    public string Name => "exec";

    public string Description => "Run a shell command in a fresh Linux sandbox (no network). Returns the exit code, stdout and stderr.";

    public JsonElement Schema { get; } = JsonDocument.Parse($$$"""
        {"type":"object","properties":{"command":{"type":"string","maxLength":{{{MaxCommandLength}}}},
        "timeoutSeconds":{"type":"integer","minimum":1,"maximum":{{{MaxTimeoutSeconds}}}}},"required":["command"],"additionalProperties":false}
        """).RootElement.Clone();

    public async Task<ToolOutput> InvokeAsync(ToolInvocation invocation, CancellationToken cancellationToken)
    {
        if (invocation.Arguments.ValueKind != JsonValueKind.Object
            || !invocation.Arguments.TryGetProperty("command", out var command) || command.ValueKind != JsonValueKind.String
            || command.GetString() is not { Length: > 0 and <= MaxCommandLength } script)
        {
            return ToolOutput.Error($"exec needs \"command\": a shell command of 1-{MaxCommandLength} characters.");
        }
        long? timeoutMs = null;
        if (invocation.Arguments.TryGetProperty("timeoutSeconds", out var timeout))
        {
            if (timeout.ValueKind != JsonValueKind.Number || !timeout.TryGetInt32(out var seconds) || seconds is < 1 or > MaxTimeoutSeconds)
            {
                return ToolOutput.Error($"exec's \"timeoutSeconds\" must be an integer from 1 to {MaxTimeoutSeconds}.");
            }
            timeoutMs = seconds * 1000L;
        }
        var request = new CreateSessionRequest
        {
            Script = script,
            TimeoutMs = timeoutMs,
            Metadata = new Dictionary<string, string>
            {
                ["conversation"] = invocation.ConversationId,
                ["run"] = invocation.RunId,
                ["toolCall"] = invocation.CallId,
            },
        };
        var conversation = await conversations.GetAsync(invocation.WorkspaceId, invocation.ConversationId, cancellationToken);
        var (mounted, env) = conversation is null ? ([], []) : await skills.ForExecAsync(invocation.WorkspaceId, conversation.Agent, cancellationToken);
        if (env.Count > 0)
        {
            // The env vars the agent's skills declare, from the workspace secrets that exist (a missing one is the skill's unmet requirement).
            var existing = await secrets.ExistingAsync(invocation.WorkspaceId, env, cancellationToken);
            request = request with { Secrets = [.. env.Where(existing.Contains)] };
        }
        Session session;
        try
        {
            session = await sessions.RunOnceAsync(invocation.WorkspaceId, invocation.ReservedId, request, mounted, cancellationToken);
        }
        catch (ApiProblem refused)
        {
            return ToolOutput.Error($"The sandbox session could not start: {refused.Message}");
        }
        return Describe(session);
    }

    private static ToolOutput Describe(Session session)
    {
        var text = new StringBuilder();
        text.Append("status: ").Append(session.Status.ToWire());
        if (session.ExitCode is { } exit)
        {
            text.Append("\nexit_code: ").Append(exit);
        }
        if (session.Error is { } error)
        {
            text.Append("\nerror: ").Append(error.Message);
        }
        if (session.Stdout.Length > 0)
        {
            text.Append("\nstdout:\n").Append(session.Stdout);
        }
        if (session.Stderr.Length > 0)
        {
            text.Append("\nstderr:\n").Append(session.Stderr);
        }
        return new ToolOutput(text.ToString(), session.Status != SessionStatus.Succeeded);
    }
}
