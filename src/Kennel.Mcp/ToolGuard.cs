using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.Mcp;

/// <summary>The scopes a tool needs, all of them. A tool without this attribute is never listed or run: scopes fail closed.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresScopeAttribute(params string[] scopes) : Attribute
{
    public IReadOnlyList<string> Scopes { get; } = scopes;
}

/// <summary>A tool error as the model sees it: <c>isError: true</c> and <c>{"error": CODE, "message": …}</c>.</summary>
public sealed record ToolFailure(string Error, string Message)
{
    /// <summary>The argument at fault, when one is.</summary>
    public string? Field { get; init; }

    public const string UnknownTool = "unknown_tool";
    public const string InsufficientScope = "insufficient_scope";
    public const string InvalidArguments = "invalid_arguments";
    public const string NotFound = "not_found";
    /// <summary>A dependency (the store, a worker) failed or did not answer; retrying may succeed.</summary>
    public const string GatewayError = "gateway_error";
    public const string InternalError = "internal_error";

    public CallToolResult ToResult() => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = JsonSerializer.Serialize(this, McpJson.Default.ToolFailure) }],
    };
}

/// <summary>
/// Which tools a caller may use, for every Kennel MCP endpoint: <c>tools/list</c> shows only the tools the caller may
/// call (its scopes allow them and the host does not refuse them to it), and <c>tools/call</c> refuses the others and
/// turns every failure into a <see cref="ToolFailure"/>. Protocol errors (<see cref="McpProtocolException"/>) stay
/// JSON-RPC errors, and no exception text or stack trace of an unexpected failure reaches the client.
/// </summary>
/// <param name="hasScope">Whether the caller holds a scope.</param>
/// <param name="refusal">
/// The host's refusal of a tool to a caller whatever its scopes (null: the scopes decide). Checked before the scopes,
/// since no scope would help.
/// </param>
/// <param name="translate">The host's own errors as tool failures (null: not one of them).</param>
public sealed partial class ToolGuard(Func<ClaimsPrincipal?, string, bool> hasScope, Func<McpServerTool, ClaimsPrincipal?, ToolFailure?> refusal,
    Func<Exception, ToolFailure?> translate, ILogger logger)
{
    /// <summary>
    /// Told of every tool call's outcome: the tool's name (<c>(unknown)</c> when no tool has it, so callers cannot add
    /// names), and <c>ok</c>, <c>error</c> (the tool's own error result) or the <see cref="ToolFailure"/>'s code.
    /// </summary>
    public Action<string, string>? Called { get; init; }

    /// <summary>Adds the list and call filters to one session's server.</summary>
    public void Install(McpServerOptions options)
    {
        options.Filters.Request.ListToolsFilters.Add(next => async (context, cancellationToken) =>
        {
            var result = await next(context, cancellationToken);
            var tools = context.Server.ServerOptions.ToolCollection;
            result.Tools = [.. result.Tools.Where(tool => tools is not null && tools.TryGetPrimitive(tool.Name, out var served)
                && refusal(served, context.User) is null && MissingScopes(served, context.User) is { Count: 0 })];
            return result;
        });

        options.Filters.Request.CallToolFilters.Add(next => async (context, cancellationToken) =>
        {
            var name = context.Params?.Name ?? "";
            var (result, failure) = await CallAsync(next, context, name, cancellationToken);
            Called?.Invoke(failure?.Error == ToolFailure.UnknownTool ? "(unknown)" : name, failure?.Error ?? (result.IsError == true ? "error" : "ok"));
            return result;
        });
    }

    /// <summary>The call, unless refused, with every failure as a <see cref="ToolFailure"/> (null: the tool answered).</summary>
    private async ValueTask<(CallToolResult Result, ToolFailure? Failure)> CallAsync(
        McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, string name,
        CancellationToken cancellationToken)
    {
        if (Refuse(context.Server.ServerOptions.ToolCollection, name, context.User) is { } refused)
        {
            return (refused.ToResult(), refused);
        }
        try
        {
            return (await next(context, cancellationToken), null);
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or McpProtocolException))
        {
            var failure = translate(exception);
            if (failure?.Error == ToolFailure.GatewayError)
            {
                LogDependencyFailed(logger, exception, name);
            }
            else if (failure is null && exception is JsonException or ArgumentException)
            {
                failure = new ToolFailure(ToolFailure.InvalidArguments,
                    $"The arguments do not match the input schema of '{name}': {ArgumentProblem(exception)}");
            }
            else if (failure is null)
            {
                LogToolFailed(logger, exception, name);
                failure = new ToolFailure(ToolFailure.InternalError, "The tool failed unexpectedly; the server log has the cause.");
            }
            return (failure.ToResult(), failure);
        }
    }

    /// <summary>
    /// Why the caller may not call the tool named: it does not exist, the host refuses it, or scopes are missing (in
    /// that order). Null when it may.
    /// </summary>
    public ToolFailure? Refuse(McpServerPrimitiveCollection<McpServerTool>? tools, string name, ClaimsPrincipal? user)
    {
        if (tools is null || !tools.TryGetPrimitive(name, out var tool))
        {
            return new ToolFailure(ToolFailure.UnknownTool, $"There is no tool '{name}'. Call tools/list for the tools this credential may use.");
        }
        if (refusal(tool, user) is { } refused)
        {
            return refused;
        }
        return MissingScopes(tool, user) is { Count: > 0 } missing
            ? new ToolFailure(ToolFailure.InsufficientScope, $"Missing scopes: {string.Join(' ', missing)}")
            : null;
    }

    /// <summary>The scopes the tool needs that the caller lacks; a tool that declares none needs one no one has.</summary>
    public IReadOnlyList<string> MissingScopes(McpServerTool tool, ClaimsPrincipal? user) => DeclaredScopes(tool) switch
    {
        null => ["(undeclared)"],
        var required when required.All(scope => hasScope(user, scope)) => [],
        var required => [.. required.Where(scope => !hasScope(user, scope))],
    };

    /// <summary>
    /// The scopes a call of the tool named needs that the caller lacks, where more scopes would let it make the call:
    /// empty for an unknown tool, one that declares no scopes, and one the host refuses anyway (the call's own answer
    /// says so).
    /// </summary>
    public IReadOnlyList<string> StepUpScopes(McpServerPrimitiveCollection<McpServerTool>? tools, string name, ClaimsPrincipal? user) =>
        tools is not null && tools.TryGetPrimitive(name, out var tool) && DeclaredScopes(tool) is not null && refusal(tool, user) is null
            ? MissingScopes(tool, user)
            : [];

    private static IReadOnlyList<string>? DeclaredScopes(McpServerTool tool) => tool.Metadata.OfType<RequiresScopeAttribute>().FirstOrDefault()?.Scopes;

    /// <summary>The scopes a tool declares, for documentation and tests.</summary>
    public static IReadOnlyList<string> RequiredScopes(MethodInfo method) => method.GetCustomAttribute<RequiresScopeAttribute>()?.Scopes ?? [];

    // The binder's messages name the parameter and the JSON path; CLR type names are left out.
    private static string ArgumentProblem(Exception exception) => exception switch
    {
        JsonException { Path: { Length: > 0 } path } => $"the value at '{path}' has the wrong type.",
        ArgumentException { ParamName: { } parameter } => $"'{parameter}' is missing or invalid.",
        _ => "check the names and types of the arguments.",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP tool {Tool} could not reach a dependency")]
    private static partial void LogDependencyFailed(ILogger logger, Exception exception, string tool);

    [LoggerMessage(Level = LogLevel.Error, Message = "MCP tool {Tool} failed")]
    private static partial void LogToolFailed(ILogger logger, Exception exception, string tool);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ToolFailure))]
internal sealed partial class McpJson : System.Text.Json.Serialization.JsonSerializerContext;
