using System.Collections.Concurrent;
using System.Security.Claims;
using ModelContextProtocol.Server;

namespace Kennel.Mcp;

/// <summary>
/// Who each live session belongs to: the caller (a credential, or an OAuth user at one resource) and the endpoint that
/// opened it. A request naming a session of anyone else, or of another endpoint, is answered exactly as one naming a
/// session that never existed (404), so a session id seen elsewhere confirms nothing. The package binds a session to
/// its user too, by the <see cref="ClaimTypes.NameIdentifier"/> claim that <see cref="Bind"/> adds, but answers a
/// mismatch with 403, which tells that the session exists. The package runs each session through
/// <see cref="RunAsync"/>, which records its owner and opens its stored events when it starts, and forgets both when it
/// ends (DELETE, idle timeout, shutdown).
/// </summary>
public sealed class McpSessionOwners(McpEventStore events)
{
    private const string BindingAuthenticationType = "kennel-mcp-session";

    private readonly ConcurrentDictionary<string, string> owners = new(StringComparer.Ordinal);

    public int Count => owners.Count;

    /// <summary>
    /// The binding of a request by <paramref name="owner"/>: the endpoint's path and the owner. It is added to the
    /// request's user as the claim the package binds sessions to, and returned.
    /// </summary>
    public static string Bind(HttpContext context, string owner)
    {
        var binding = string.Concat(context.Request.Path.Value, " ", owner);
        context.User.AddIdentity(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, binding)], BindingAuthenticationType));
        return binding;
    }

    /// <summary>Whether the session exists and was opened with this binding.</summary>
    public bool Owns(string sessionId, string binding) =>
        owners.TryGetValue(sessionId, out var owner) && string.Equals(owner, binding, StringComparison.Ordinal);

    /// <summary>The package's <c>RunSessionHandler</c>: runs the session's server between recording it and forgetting it.</summary>
    public async Task RunAsync(HttpContext context, McpServer server, CancellationToken closed)
    {
        var id = server.SessionId ?? throw new InvalidOperationException("A stateful MCP session has an id.");
        owners[id] = context.User.Identities.FirstOrDefault(i => i.AuthenticationType == BindingAuthenticationType)?.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? "";
        events.Open(id);
        try
        {
            await server.RunAsync(closed);
        }
        finally
        {
            owners.TryRemove(id, out _);
            events.Forget(id);
        }
    }
}
