using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

// Kennel's endpoints speak 2025-11-25, whose Streamable HTTP has sessions: the package marks its session options
// obsolete (MCP9006) only because the 2026-07-28 draft drops them. RunSessionHandler is experimental (MCPEXP002).
#pragma warning disable MCP9006, MCPEXP002

namespace Kennel.Mcp;

/// <summary>
/// Kennel's MCP endpoints on the package's Streamable HTTP transport (<c>ModelContextProtocol.AspNetCore</c>), which
/// does the protocol's HTTP: POST, GET and DELETE, the 406 and 400 header checks, the <c>Mcp-Session-Id</c> table and
/// its idle timeout, SSE framing, priming events and resumption from <see cref="McpEventStore"/>. Kennel adds what the
/// package leaves to it: CORS and the <c>Origin</c> allow-list, each session's binding to its caller, the body and
/// step-up checks of <see cref="McpEdgeFilter"/>, and each endpoint's own server (<see cref="McpEndpoint"/>).
/// Authentication and rate limiting are the host's: it attaches their policies to the returned builder.
/// </summary>
public static class McpEndpoints
{
    /// <summary>Registers the package's transport, stateful, with Kennel's idle timeout and event store.</summary>
    public static IServiceCollection AddMcpEndpoints(this IServiceCollection services, McpHttpOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(new McpEventStore(options.MaxStoredEventsPerSession, options.MaxStoredEventBytesPerSession));
        services.AddSingleton<McpSessionOwners>();
        services.AddSingleton<StatelessMcpTransport>();
        services.AddMcpServer().WithHttpTransport();
        services.AddOptions<HttpServerTransportOptions>().Configure<McpEventStore, McpSessionOwners, IServiceProvider>((transport, events, owners, provider) =>
        {
            transport.SessionMode = HttpServerSessionMode.Stateful;
            transport.IdleTimeout = options.IdleTimeout;
            transport.EventStreamStore = events;
            transport.ConfigureSessionOptions = ConfigureSessionAsync;
            transport.RunSessionHandler = owners.RunAsync;
            transport.TimeProvider = provider.GetService<TimeProvider>() ?? TimeProvider.System;
        });
        return services;
    }

    /// <summary>
    /// Maps <paramref name="endpoint"/> at <paramref name="pattern"/> with the package's <c>MapMcp</c> (stateful, or
    /// stateless when the endpoint says so), with Kennel's CORS policy (the host runs ASP.NET Core's CORS middleware
    /// before authentication, so preflights need no credential) and <see cref="McpEdgeFilter"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapMcpEndpoint(this IEndpointRouteBuilder app, string pattern, McpEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(endpoint);
        var services = app.ServiceProvider;
        var options = services.GetRequiredService<McpHttpOptions>();
        var routes = endpoint.Stateless ? services.GetRequiredService<StatelessMcpTransport>().Routes(app) : app;
        var group = routes.MapGroup(pattern);
        // The package's POST accepts only application/json, so routing would hand any other body to the host's
        // fallback (404). A second POST, ranked after the package's, takes those to McpEdgeFilter, which answers 415.
        group.MapMcp().WithOrder(-1);
        group.MapPost("", () => Results.StatusCode(StatusCodes.Status415UnsupportedMediaType));
        return group
            .WithMetadata(endpoint)
            .RequireCors(policy => Cors(policy, options))
            .AddEndpointFilter(new McpEdgeFilter(endpoint, options, services.GetRequiredService<McpSessionOwners>()));
    }

    /// <summary>The package's per-session options: the server of the endpoint the session was opened at.</summary>
    internal static Task ConfigureSessionAsync(HttpContext context, McpServerOptions server, CancellationToken cancellationToken)
    {
        var endpoint = context.GetEndpoint()?.Metadata.GetMetadata<McpEndpoint>()
            ?? throw new InvalidOperationException("MCP endpoints are mapped with MapMcpEndpoint, which names their server.");
        endpoint.Configure(server);
        return Task.CompletedTask;
    }

    /// <summary>
    /// What a page on an allowed origin may send and read. Other origins get no CORS headers, and their requests the
    /// 403 of <see cref="McpEdgeFilter.OriginAllowed"/>.
    /// </summary>
    private static void Cors(CorsPolicyBuilder policy, McpHttpOptions options) => policy
        .WithOrigins([.. options.AllowedOrigins.Select(origin => origin.TrimEnd('/'))])
        .WithMethods(HttpMethods.Post, HttpMethods.Get, HttpMethods.Delete)
        .WithHeaders("Authorization", "Content-Type", "Accept", McpEdgeFilter.SessionIdHeader, "MCP-Protocol-Version", "Last-Event-ID")
        // The session id continues the session; WWW-Authenticate and Retry-After say what to do after a 401 or a 429.
        .WithExposedHeaders(McpEdgeFilter.SessionIdHeader, "WWW-Authenticate", "Retry-After")
        .SetPreflightMaxAge(TimeSpan.FromHours(1));
}

/// <summary>
/// The package's transport for stateless endpoints. <c>MapMcp</c> serves an endpoint with the one transport registered
/// in the route builder's services, and its session mode is set for all of them; so the stateless endpoints get a
/// small container of their own, holding only the package's transport and what it needs from the application (its
/// logging and lifetime). Their servers still resolve tools' services from the request's, the application's.
/// </summary>
internal sealed class StatelessMcpTransport(ILoggerFactory loggerFactory, IHostApplicationLifetime lifetime) : IDisposable
{
    private readonly Lazy<ServiceProvider> services = new(() =>
    {
        var services = new ServiceCollection();
        services.AddSingleton(loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(lifetime);
        services.AddMcpServer().WithHttpTransport(transport =>
        {
            transport.SessionMode = HttpServerSessionMode.Stateless;
            transport.ConfigureSessionOptions = McpEndpoints.ConfigureSessionAsync;
        });
        return services.BuildServiceProvider();
    });

    /// <summary><paramref name="app"/>'s routes, seen with the stateless transport's services.</summary>
    public IEndpointRouteBuilder Routes(IEndpointRouteBuilder app) => new RoutesWithServices(app, services.Value);

    public void Dispose()
    {
        if (services.IsValueCreated)
        {
            services.Value.Dispose();
        }
    }

    private sealed class RoutesWithServices(IEndpointRouteBuilder app, IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources => app.DataSources;

        public IApplicationBuilder CreateApplicationBuilder() => app.CreateApplicationBuilder();
    }
}
