using System.Text.Json.Nodes;
using Kennel.Contracts;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Kennel.Mcp;

/// <summary>
/// What a POSTed message must be before the SDK is handed it. The SDK answers a request whose <c>params</c> it cannot
/// read (not an object, a tool name that is not a string, <c>arguments</c> that are not an object, or text no reader
/// can decode) with -32603 "An error occurred." and a logged stack trace; here they are -32602 Invalid params naming
/// what is wrong. Text that a tool must not be given (NUL, which no store keeps, and undecodable text) inside a
/// <c>tools/call</c>'s arguments is the tool's invalid_arguments instead, like any other bad argument, which
/// <see cref="McpEdgeFilter"/> answers once it has checked the tool's name and scopes.
/// </summary>
public static class McpRequestCheck
{
    /// <summary>
    /// Null when the message may go on, or the error to answer: with the request's id for a request, without one for a
    /// message that cannot be answered. A bad tool argument comes back in <paramref name="argumentFailure"/>.
    /// </summary>
    public static JsonRpcError? Check(JsonRpcMessage message, BadText? bad, out ToolFailure? argumentFailure)
    {
        argumentFailure = null;
        var request = message as JsonRpcRequest;
        if (bad is not null && (request is null || bad.Path is not ["params", ..]))
        {
            return Refuse(request, McpErrorCode.InvalidRequest, $"Invalid Request: {bad.Describe(bad.Field)}");
        }
        if (request is null)
        {
            return null;
        }
        if (request.Params is not (null or JsonObject))
        {
            return Refuse(request, McpErrorCode.InvalidParams, "Invalid params: params must be an object.");
        }
        var argumentPath = bad?.Path is ["params", "arguments", _, ..] path ? path.Skip(2) : null;
        if (bad is not null && (request.Method != RequestMethods.ToolsCall || argumentPath is null))
        {
            return Refuse(request, McpErrorCode.InvalidParams, $"Invalid params: {bad.Describe(BadText.Join(bad.Path.Skip(1)))}");
        }
        if (request.Method != RequestMethods.ToolsCall)
        {
            return null;
        }
        var parameters = (JsonObject?)request.Params;
        try
        {
            if (parameters?["name"] is not JsonValue name || !name.TryGetValue<string>(out _))
            {
                return Refuse(request, McpErrorCode.InvalidParams, "Invalid params: name must be the name of a tool, as a string.");
            }
            if (parameters["arguments"] is not (null or JsonObject))
            {
                return Refuse(request, McpErrorCode.InvalidParams, "Invalid params: arguments must be an object of the tool's arguments by name.");
            }
        }
        catch (InvalidOperationException)
        {
            // Reading params' names decodes them: one is undecodable, after the bad argument that was found first.
            return Refuse(request, McpErrorCode.InvalidParams, "Invalid params: a name in params is not valid text.");
        }
        if (bad is not null)
        {
            var field = BadText.Join(argumentPath!);
            argumentFailure = new ToolFailure(ToolFailure.InvalidArguments, bad.Describe(field)) { Field = field };
        }
        return null;
    }

    private static JsonRpcError Refuse(JsonRpcRequest? request, McpErrorCode code, string message) =>
        new() { Id = request?.Id ?? default, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } };
}
