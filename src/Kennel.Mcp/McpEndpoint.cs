using System.Security.Claims;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Kennel.Mcp;

/// <summary>
/// One of Kennel's MCP endpoints: the server each of its sessions runs, and what Kennel decides before the package's
/// transport sees a request (see <see cref="McpEdgeFilter"/>). <see cref="McpEndpoints.MapMcpEndpoint"/> maps it with
/// the package's <c>MapMcp</c> and puts it on the endpoint as metadata, where the transport's per-session options
/// (<c>ConfigureSessionOptions</c>) find it.
/// </summary>
public sealed record McpEndpoint
{
    /// <summary>
    /// Each request is served by a fresh server, with no <c>Mcp-Session-Id</c>, no GET stream and no DELETE, so any
    /// replica can answer any request. The tools must then need no server-to-client requests (sampling, elicitation).
    /// </summary>
    public bool Stateless { get; init; }

    /// <summary>Whom a request counts as, for binding its session; null refuses the request (403).</summary>
    public required Func<ClaimsPrincipal, string?> OwnerOf { get; init; }

    /// <summary>The tools, built once and shared by every session (their schemas come from their methods).</summary>
    public required Func<McpServerPrimitiveCollection<McpServerTool>> Tools { get; init; }

    /// <summary>Which tools each caller may use; null serves every tool to everyone (the conformance fixtures).</summary>
    public ToolGuard? Guard { get; init; }

    /// <summary>The rest of a session's server: its info, instructions, capabilities and handlers.</summary>
    public Action<McpServerOptions>? ConfigureServer { get; init; }

    /// <summary>
    /// The challenge that lets a caller lacking scopes for a <c>tools/call</c> get them and retry (MCP authorization,
    /// runtime insufficient scope). Null: such calls are refused in band, as tool errors.
    /// </summary>
    public McpStepUp? StepUp { get; init; }

    /// <summary>
    /// Fills in a session's server from the package's defaults. Its first incoming filter refuses, as
    /// <see cref="McpEdgeFilter"/> does before a session exists, the messages the package would answer with -32603.
    /// </summary>
    internal void Configure(McpServerOptions server)
    {
        server.ToolCollection = Tools();
        ConfigureServer?.Invoke(server);
        server.Filters.Message.IncomingFilters.Insert(0, next => (context, cancellationToken) =>
            McpRequestCheck.Check(context.JsonRpcMessage, null, out _) is { Error: var refusal }
                ? throw new McpProtocolException(refusal.Message, (McpErrorCode)refusal.Code)
                : next(context, cancellationToken));
        Guard?.Install(server);
    }
}

/// <summary>MCP authorization's runtime step-up: a 403 with <c>WWW-Authenticate</c> for a call that lacks scopes.</summary>
/// <param name="AppliesTo">
/// Whether a new authorization could ever grant the caller more scopes (an OAuth user, not an API key); other callers'
/// messages are not decoded for it.
/// </param>
/// <param name="ChallengeAsync">Given the scopes a call lacks, its challenge; null refuses the call in band instead.</param>
public sealed record McpStepUp(Func<ClaimsPrincipal, bool> AppliesTo, Func<HttpContext, IReadOnlyList<string>, ValueTask<ScopeChallenge?>> ChallengeAsync);

/// <summary>A refusal of a tool call for want of scopes: the <c>WWW-Authenticate</c> header and the error message of the 403.</summary>
public sealed record ScopeChallenge(string Header, string Message);
