using System.Reflection;
using System.Security.Claims;
using System.Text.Json.Serialization;
using Kennel.Contracts;
using Kennel.Contracts.Users;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Fleet;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.OAuth;
using Kennel.ControlPlane.Users;
using Kennel.ControlPlane.Workers;
using Kennel.ControlPlane.Workspaces;
using Kennel.Mcp;
using Kennel.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// The fleet MCP server at <c>/mcp</c>: an endpoint of <see cref="McpEndpoints"/> (the MCP package's transport), authenticated by the
/// control plane's bearer credentials, serving <see cref="FleetTools"/>. A new tool is one attributed method there. It
/// maps the agent endpoint too (<see cref="AgentMcp"/>), which shares its policies and per-credential rate limit.
/// </summary>
public static class FleetMcp
{
    public const string Path = "/mcp";

    /// <summary>
    /// Reads <c>KENNEL_MCP_IDLE_TIMEOUT_SECONDS</c> (1800), <c>KENNEL_MCP_ALLOWED_ORIGINS</c> (comma-separated origins;
    /// unset: same-origin loopback only) and <c>KENNEL_MCP_RATE_LIMIT</c> (60 requests a minute per credential; 0: off).
    /// </summary>
    public static IServiceCollection AddFleetMcp(this IServiceCollection services, McpHttpOptions options)
    {
        services.AddSingleton<FleetService>();
        services.AddMcpEndpoints(options);
        services.AddSingleton(Endpoint);
        return services;
    }

    public static void MapFleetMcp(this IEndpointRouteBuilder app)
    {
        // Any API key will do to connect; what it may do is decided per tool by its scopes. (No scheme named: see ScopePolicies.)
        var policy = new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .RequireClaim(Caller.WorkspaceIdClaim)
            .Build();
        var endpoint = app.ServiceProvider.GetRequiredService<McpEndpoint>();
        var options = app.ServiceProvider.GetRequiredService<McpHttpOptions>();
        var rateLimit = new McpRateLimitPolicy(options, Client, (context, retryAfter) => RefuseAsync(context, options.RateLimitPerMinute, retryAfter));
        app.MapMcpEndpoint(Path, endpoint).RequireAuthorization(policy).RequireRateLimiting(rateLimit).WithMetadata(new ProtectedResourceEndpoint());
        app.MapGet($"{Path}/health", HealthAsync);

        app.MapAgentMcp(policy, rateLimit);
    }

    /// <summary>The tools of <see cref="FleetTools"/>, built once: their schemas come from the methods' signatures.</summary>
    public static IReadOnlyList<McpServerTool> Tools(IServiceProvider services) =>
    [
        .. new[] { typeof(FleetTools), typeof(DaemonTools), typeof(ServerTools) }.SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(method => method.GetCustomAttribute<McpServerToolAttribute>() is not null)
            .Select(method => McpServerTool.Create(method, (object?)null, new McpServerToolCreateOptions { Services = services })),
    ];

    private static McpEndpoint Endpoint(IServiceProvider services)
    {
        // Built at the first initialize, not at start: the tool schemas and the SDK's code are several MB that an
        // installation not using MCP never needs.
        var tools = new Lazy<McpServerPrimitiveCollection<McpServerTool>>(() => [.. Tools(services)]);
        return new McpEndpoint
        {
            OwnerOf = Owner,
            Tools = () => tools.Value,
            Guard = new ToolGuard(HasScope, Refusal, Translate, services.GetRequiredService<ILoggerFactory>().CreateLogger("Kennel.Mcp.Fleet"))
            {
                Called = services.GetRequiredService<Observability.KennelMetrics>().ToolCalled,
            },
            ConfigureServer = server =>
            {
                server.ServerInfo = new Implementation { Name = "kennel", Title = "Kennel fleet", Version = HealthEndpoints.Version };
                server.ServerInstructions =
                    "Kennel runs workloads in isolated sandboxes on a fleet of workers. Start one with create-session (a script or a command), " +
                    "then wait-for-session for its exit code and output. list-sessions, get-session and cancel-session manage them; " +
                    "fleet-overview tells how busy the fleet is. Daemons run a workload on a webhook or a cron schedule: create-daemon, " +
                    "list-daemons, get-daemon, update-daemon, delete-daemon, and trigger-webhook to run one now; cost-summary sums vCPU-seconds.";
            },
            StepUp = new McpStepUp(user => user.FindFirst(Caller.UserIdClaim) is not null, (context, missing) => StepUpAsync(services, context, missing)),
        };
    }

    /// <summary>
    /// An OAuth caller calling a tool its token lacks scopes for gets 403 with <c>WWW-Authenticate: Bearer
    /// error="insufficient_scope"</c> (MCP authorization, runtime insufficient scope) when a new authorization could
    /// grant them (the user's role allows them and the client registered them), so the client can ask for them and
    /// retry. The challenge's scope is the token's scopes and the missing ones, so stepping up loses nothing. API keys,
    /// and callers who could not get the scopes anyway, get the tool error in band.
    /// </summary>
    internal static async ValueTask<ScopeChallenge?> StepUpAsync(IServiceProvider services, HttpContext context, IReadOnlyList<string> missing)
    {
        var caller = Caller.From(context.User);
        if (caller.UserId is null)
        {
            return null;
        }
        var memberships = await services.GetRequiredService<UserService>().MembershipsAsync(caller.UserId, context.RequestAborted);
        var role = memberships.FirstOrDefault(m => m.WorkspaceId == caller.WorkspaceId)?.Role;
        var clientId = await services.GetRequiredService<GrantStore>().ClientIdAsync(caller.CredentialId, context.RequestAborted);
        var client = await services.GetRequiredService<ClientRegistry>().FindAsync(clientId, context.RequestAborted);
        if (role is null || client is null || !missing.All(scope => Roles.GrantableScopes(role).Contains(scope) && client.Scopes.Contains(scope)))
        {
            return null;
        }
        var message = $"Missing scopes: {string.Join(' ', missing)}";
        return new ScopeChallenge($"Bearer error=\"insufficient_scope\", scope=\"{OAuthScopes.Format(caller.Scopes.Union(missing))}\", " +
            $"resource_metadata=\"{ProblemAuthorizationResultHandler.ResourceMetadataUrl(context)}\", error_description=\"{message}\"", message);
    }

    /// <summary>
    /// Who a session belongs to: the API key, or for OAuth the user at the token's endpoint, so the session outlives
    /// the grant when the client steps up to more scopes (a new authorization) and carries on with its new token.
    /// </summary>
    internal static string? Owner(ClaimsPrincipal user) => user.FindFirst(Caller.CredentialClaim)?.Value is { Length: > 0 } credential
        ? $"{user.FindFirst(Caller.WorkspaceIdClaim)?.Value}/" +
            (user.FindFirst(Caller.UserIdClaim)?.Value is { Length: > 0 } userId ? $"user:{userId}@{user.FindFirst(Caller.AudienceClaim)?.Value}" : credential)
        : null;

    /// <summary>The client a request counts against: its API key, or its OAuth grant.</summary>
    internal static string? Client(ClaimsPrincipal user) => user.FindFirst(Caller.CredentialClaim)?.Value;

    internal static Task RefuseAsync(HttpContext context, int limit, int retryAfterSeconds) => Results.Json(
        new ApiProblem(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many requests.",
            $"This credential may make {limit} requests a minute to Kennel's MCP endpoints; retry after {retryAfterSeconds} s. " +
            (context.Request.Path == Path
                ? "A tool call costs one request however long it runs, so wait-for-session is cheaper than polling get-session."
                : "A tool call costs one request however long it runs.")).ToProblem(),
        KennelJson.Default.Problem, "application/problem+json", StatusCodes.Status429TooManyRequests).ExecuteAsync(context);

    internal static bool HasScope(ClaimsPrincipal? user, string scope) => user?.HasClaim(Caller.ScopeClaim, scope) == true;

    /// <summary>An <see cref="InstallationOnlyAttribute"/> tool is refused to every workspace but <c>default</c>, whatever the scopes.</summary>
    private static ToolFailure? Refusal(McpServerTool tool, ClaimsPrincipal? user) =>
        tool.Metadata.OfType<InstallationOnlyAttribute>().Any() && user?.FindFirstValue(Caller.WorkspaceNameClaim) != WorkspaceStore.DefaultName
            ? new ToolFailure(ErrorCodes.WorkspaceMismatch, $"Only an admin key of the 'default' workspace may call {tool.ProtocolTool.Name}: it shows the whole installation.")
            : null;

    /// <summary>
    /// The services' one error type, as tool failures: bad input is invalid_arguments, the rest keep their code. A store
    /// that fails or does not answer is gateway_error: the call may succeed if retried, unlike an internal_error.
    /// </summary>
    internal static ToolFailure? Translate(Exception exception) => exception switch
    {
        ApiProblem problem => problem.Status switch
        {
            StatusCodes.Status400BadRequest => new ToolFailure(ToolFailure.InvalidArguments, problem.Detail ?? problem.Title) { Field = problem.Field },
            StatusCodes.Status404NotFound => new ToolFailure(ToolFailure.NotFound, problem.Detail ?? problem.Title),
            _ => new ToolFailure(problem.Code, problem.Detail ?? problem.Title) { Field = problem.Field },
        },
        System.Data.Common.DbException or TimeoutException =>
            new ToolFailure(ToolFailure.GatewayError, "The store did not answer; retry in a few seconds. The server log has the cause."),
        _ => null,
    };

    /// <summary>
    /// <c>GET /mcp/health</c>: ok when the store answers and at least one worker has polled within its lease; otherwise
    /// degraded (503) with what is wrong, since tools would then fail or sessions would never start.
    /// </summary>
    internal static async Task<IResult> HealthAsync(Database database, WorkerRegistry workers, CancellationToken cancellationToken)
    {
        var error = await HealthEndpoints.StoreIsReachableAsync(database, cancellationToken)
            ? await WorkerProblemAsync(workers, cancellationToken)
            : "The store is unreachable.";
        return error is null
            ? Results.Json(new McpHealth("ok", HealthEndpoints.Version, McpHttpOptions.ProtocolVersion, null), FleetMcpJson.Default.McpHealth)
            : Results.Json(new McpHealth("degraded", HealthEndpoints.Version, McpHttpOptions.ProtocolVersion, error),
                FleetMcpJson.Default.McpHealth, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<string?> WorkerProblemAsync(WorkerRegistry workers, CancellationToken cancellationToken) =>
        WorkerProblem(await workers.ListAsync(cancellationToken));

    /// <summary>Why no session can start on <paramref name="fleet"/>; null when one can.</summary>
    internal static string? WorkerProblem(IReadOnlyCollection<Kennel.Contracts.Workers.Worker> fleet) => fleet.Any(w => w.Health == "healthy")
        ? null
        : fleet.Count == 0
            ? "No workers are enrolled, so no session can start: start one with `kennel worker`, or set KENNEL_EMBEDDED_WORKER=true."
            : $"None of the {fleet.Count} enrolled workers is healthy (none has polled within its lease), so no session can start.";
}

public sealed record McpHealth(string Status, string Version, string Protocol, string? Error);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(McpHealth))]
[JsonSerializable(typeof(FleetOverview))]
[JsonSerializable(typeof(SnapshotList))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(WorkerList))]
internal sealed partial class FleetMcpJson : JsonSerializerContext;
