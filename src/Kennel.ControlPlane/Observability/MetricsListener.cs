using Kennel.ControlPlane.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Kennel.ControlPlane.Observability;

/// <summary>
/// <c>KENNEL_METRICS_LISTEN</c>: <c>/metrics</c>, without a credential, on an address of its own (a private interface a
/// Prometheus server reaches, say), and nothing else there. A small web host of its own, so no connection to it can
/// reach the API and none to the API's address can reach this, whatever its <c>Host</c> header says.
/// </summary>
public sealed class MetricsListener : IAsyncDisposable
{
    private readonly WebApplication app;

    private MetricsListener(WebApplication app) => this.app = app;

    public static async Task<MetricsListener> StartAsync(KennelSettings settings, IServiceProvider server, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls(KennelSettings.UrlOf(settings.MetricsListen!));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(server.GetRequiredService<MeterProvider>(), null, Telemetry.MetricsPath,
            branch => branch.Use(Telemetry.RefreshFirst(server.GetRequiredService<FleetGauges>())), null);
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync(cancellationToken);
        return new MetricsListener(app);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
