using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Kennel.ControlPlane.Observability;

/// <summary>
/// OpenTelemetry for the control plane: metrics always, read by a Prometheus scrape of <c>/metrics</c> (nothing is
/// exported between scrapes); traces only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or its traces variant) is set, sent
/// over OTLP as the <c>OTEL_*</c> variables say. With tracing off no tracer provider exists, so Kennel's
/// <see cref="SessionTracing.Source"/> has no listener.
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    // The OpenTelemetry SDK's name as a listener of Microsoft.Extensions.Diagnostics' metrics rules.
    private const string ListenerName = "OpenTelemetry";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, KennelSettings settings)
    {
        services.AddSingleton<FleetGauges>();
        services.AddSingleton<KennelMetrics>();
        // Only the meters of this server's own meter factory (MeterScope.Local): two servers in one process, as in the
        // tests, each count their own requests and sessions.
        services.AddMetrics(metrics => metrics
            .EnableMetrics(KennelMetrics.MeterName, null, ListenerName, MeterScope.Local)
            .EnableMetrics("Microsoft.AspNetCore.Hosting", null, ListenerName, MeterScope.Local));
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!settings.Telemetry.ContainsKey("OTEL_SERVICE_NAME"))
                {
                    resource.AddService("kennel", serviceVersion: HealthEndpoints.Version);
                }
            })
            // Each scrape reads fresh figures: the gauges' queries are cheap, and only an admin or the metrics listener scrapes.
            .WithMetrics(metrics => metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        if (TracesEnabled(settings))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(SessionTracing.SourceName)
                .AddAspNetCoreInstrumentation(http => http.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddOtlpExporter());
        }
        return services;
    }

    public static bool TracesEnabled(KennelSettings settings) =>
        settings.Telemetry.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT") || settings.Telemetry.ContainsKey("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");

    /// <summary>
    /// <c>/metrics</c> on the main listener, to admin keys of the <c>default</c> workspace (the figures are the whole
    /// installation's); unmapped there when <c>KENNEL_METRICS_LISTEN</c> gives it a listener of its own.
    /// </summary>
    public static void MapMetrics(this WebApplication app, KennelSettings settings)
    {
        app.Services.GetRequiredService<KennelMetrics>(); // the gauges exist before the first scrape
        if (settings.MetricsListen is null)
        {
            var gauges = app.Services.GetRequiredService<FleetGauges>();
            app.MapPrometheusScrapingEndpoint(MetricsPath, null, branch => branch.Use(InstallationAdminOnly).Use(RefreshFirst(gauges)), null)
                .RequireAuthorization(ScopePolicies.For(Scopes.Admin));
        }
    }

    private static Task InstallationAdminOnly(HttpContext context, RequestDelegate next) => Caller.From(context.User).IsInstallationAdmin
        ? next(context)
        : throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may read the installation's metrics.");

    /// <summary>A step before the exporter's: the gauges' figures, read from the store for this scrape.</summary>
    internal static Func<HttpContext, RequestDelegate, Task> RefreshFirst(FleetGauges gauges) => async (context, next) =>
    {
        await gauges.RefreshAsync(context.RequestAborted);
        await next(context);
    };
}
