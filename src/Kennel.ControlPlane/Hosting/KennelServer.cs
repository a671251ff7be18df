using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.ApiKeys;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Conversations;
using Kennel.ControlPlane.Channels;
using Kennel.ControlPlane.Cron;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Delivery;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Mcp;
using Kennel.ControlPlane.OAuth;
using Kennel.ControlPlane.Observability;
using Kennel.ControlPlane.Quotas;
using Kennel.ControlPlane.Runs;
using Kennel.ControlPlane.Secrets;
using Kennel.ControlPlane.Servers;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Snapshots;
using Kennel.ControlPlane.Usage;
using Kennel.ControlPlane.Workers;
using Kennel.ControlPlane.Workspaces;
using Kennel.Sandbox;
using Kennel.Store;
using Kennel.Worker;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Hosting;

/// <summary>A running control plane: where it listens and the admin key it issued, if this was the first start.</summary>
public sealed class KennelServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly MetricsListener? metricsListener;

    private KennelServer(WebApplication app, MetricsListener? metricsListener, Database database, string? bootstrapKey)
    {
        this.app = app;
        this.metricsListener = metricsListener;
        Database = database;
        BootstrapKey = bootstrapKey;
    }

    public Database Database { get; }

    /// <summary>The admin key issued on this start, or null when the installation already had one.</summary>
    public string? BootstrapKey { get; }

    public Uri Url => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public IServiceProvider Services => app.Services;

    /// <summary>
    /// Opens the store, applies migrations, issues the bootstrap admin key on the first start, checks the sandbox, and
    /// starts serving. Throws <see cref="SettingsException"/> for anything the operator has to fix.
    /// </summary>
    public static async Task<KennelServer> StartAsync(KennelSettings settings, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(settings.DataDir);
        File.SetUnixFileMode(settings.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var database = settings.DatabaseUrl is { } url
            ? Database.OpenPostgres(KennelSettings.ToNpgsqlConnectionString(url))
            : Database.OpenSqlite(Path.Combine(settings.DataDir, "kennel.db"));
        try
        {
            await Migrator.MigrateAsync(database, cancellationToken);
        }
        catch (Exception unreachable) when (unreachable is System.Data.Common.DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await database.DisposeAsync();
            throw new SettingsException($"Cannot open the store at {database.Description}: {unreachable.Message}. Check KENNEL_DATABASE_URL.");
        }
        EnsureListenAddressFree(settings.Listen, "KENNEL_LISTEN");
        if (settings.MetricsListen is { } metricsListen)
        {
            EnsureListenAddressFree(metricsListen, "KENNEL_METRICS_LISTEN");
        }

        // The empty builder: no appsettings files (and no file watcher on them), no hosting-startup scan. Kennel is
        // configured by its environment variables alone, and every piece it needs is added here by name.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls(settings.ListenUrl);
        builder.Services.AddRouting();
        builder.Configuration.AddInMemoryCollection(settings.Telemetry);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxBodyBytes;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning); // kennel serve prints its own start line
        // The MCP SDK logs every request at Information (three lines a tool call): noise to an operator, and a cost.
        builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        }
        else
        {
            logging(builder.Logging);
        }
        AddServices(builder.Services, settings, database);

        var app = builder.Build();
        app.UseMiddleware<ProblemMiddleware>();
        app.UseMiddleware<QueryStringGuard>();
        // CORS before authentication, because a browser's preflight carries no credential; the rate limiter after
        // authorization, because it counts per credential and a request without a valid one must not cost any budget.
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapHealth();
        app.MapSessions();
        app.MapApiKeys();
        app.MapWorkers();
        app.MapWorkerProtocol();
        app.MapServers();
        app.MapDaemons();
        app.MapSecrets();
        app.MapSnapshots();
        app.MapConfig();
        app.MapAgents();
        app.MapConversations();
        app.MapRuns();
        app.MapCron();
        app.MapSkills();
        app.MapChannels();
        app.MapUsage();
        app.MapQuotas();
        app.MapFleetMcp();
        app.MapOAuth();
        app.MapMetrics(settings);
        app.MapFallback(() => { throw new ApiProblem(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such route."); });

        await app.Services.GetRequiredService<OAuth.SigningKeys>().EncryptPlainKeysAsync(cancellationToken);
        var bootstrap = await app.Services.GetRequiredService<ApiKeyService>().IssueBootstrapKeyAsync(cancellationToken);
        if (bootstrap is not null)
        {
            await WriteSecretFileAsync(Path.Combine(settings.DataDir, "admin-api-key"), bootstrap.Key, cancellationToken);
        }
        if (settings.EmbeddedWorker)
        {
            CheckSandbox(app.Services);
        }
        await app.StartAsync(cancellationToken);
        var metricsListener = settings.MetricsListen is null ? null : await MetricsListener.StartAsync(settings, app.Services, cancellationToken);
        return new KennelServer(app, metricsListener, database, bootstrap?.Key);
    }

    /// <summary>Completes on SIGTERM/SIGINT (the host's own handling) or when <paramref name="cancellationToken"/> fires.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken) =>
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    public async ValueTask DisposeAsync()
    {
        if (metricsListener is not null)
        {
            await metricsListener.DisposeAsync();
        }
        await app.StopAsync();
        await app.DisposeAsync();
        await Database.DisposeAsync();
    }

    private static void AddServices(IServiceCollection services, KennelSettings settings, Database database)
    {
        services.AddSingleton(database);
        services.AddSingleton(settings.Time);
        services.AddSingleton(settings.ControlPlane);
        services.AddTelemetry(settings);
        services.AddSingleton<ChangeSignal>();
        services.AddSnapshots(settings.Snapshots with { Directory = settings.Snapshots.Directory.Length == 0 ? Path.Join(settings.DataDir, "snapshots") : settings.Snapshots.Directory });
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton(settings.Quotas);
        services.AddSingleton<QuotaStore>();
        services.AddSingleton<QuotaService>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton(new NetworkAccess(settings.OpenNetworkWorkspaces));
        services.AddSingleton<SessionService>();
        services.AddSingleton<SessionQueue>();
        services.AddSingleton<WorkerStore>();
        services.AddSingleton<WorkerRegistry>();
        services.AddServers(settings.Servers with { ExternalUrl = settings.Servers.ExternalUrl ?? settings.ExternalUrl });
        services.AddHostedService<LeaseReaper>();
        services.AddFleetMcp(settings.Mcp);
        services.AddDaemons(settings.Daemons, settings.Scheduler);
        services.AddSingleton(new KeyEncryption(KeyEncryption.Load(settings.OAuth.KeyEncryptionKey, settings.DataDir)));
        services.AddSingleton<SecretStore>();
        services.AddSingleton<SecretService>();
        services.AddAgents(settings);
        services.AddRuns(settings.TurnLimits);
        services.AddCron();
        services.AddSkills(settings.SkillRegistries);
        services.AddDelivery(settings.Outbound);
        services.AddChannels(settings.Channels with { ExternalUrl = settings.Channels.ExternalUrl ?? settings.ExternalUrl });
        services.AddOAuth(settings.ExternalUrl, settings.OAuth);
        // The authentication core without AddAuthentication's data protection: no authentication scheme uses cookies (the
        // OAuth sign-in pages keep their own store-backed session), and its key ring would cost memory and disk for no use.
        services.AddWebEncoders();
        services.AddAuthenticationCore(options => options.DefaultScheme = BearerAuthenticationHandler.SchemeName);
        new AuthenticationBuilder(services)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(options => options.AddKennelPolicies());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddCors();
        services.AddRateLimiter(options => options.RejectionStatusCode = StatusCodes.Status429TooManyRequests);
        if (settings.EmbeddedWorker)
        {
            services.AddSingleton(new WorkerAgentOptions
            {
                Capacity = settings.EmbeddedWorkerCapacity ?? WorkerAgentOptions.DefaultCapacity(),
                SkillDirectory = DefaultSandbox.SkillDirectory(settings.DataDir, settings.SandboxSharedDirectory),
                SnapshotDirectory = DefaultSandbox.SnapshotDirectory(settings.DataDir, settings.SandboxSharedDirectory),
                SnapshotCacheBytes = (long)settings.SnapshotCacheMb << 20,
            });
            services.AddSingleton<ISandboxRuntime>(provider => DefaultSandbox.Create(settings.DataDir, settings.SandboxUids, settings.SandboxSharedDirectory, provider.GetRequiredService<ILoggerFactory>(), settings.SandboxEgress));
            services.AddHostedService<EmbeddedWorker>();
        }
    }

    /// <summary>
    /// A taken port is the commonest start-up failure; saying so plainly beats Kestrel's bind exception. (A race with
    /// another process between this check and the bind still fails the start, only less politely.)
    /// </summary>
    private static void EnsureListenAddressFree(string listen, string variable)
    {
        var url = new Uri(KennelSettings.UrlOf(listen));
        if (url.Port == 0 || !System.Net.IPAddress.TryParse(url.Host.Trim('[', ']'), out var address))
        {
            return;
        }
        try
        {
            var probe = new System.Net.Sockets.TcpListener(address, url.Port);
            probe.Start();
            probe.Stop();
        }
        catch (System.Net.Sockets.SocketException taken)
        {
            throw new SettingsException($"Cannot listen on {listen}: {taken.Message}. Stop what uses it, or set {variable}.");
        }
    }

    /// <summary>
    /// A missing or broken sandbox stops the start with the reason, rather than failing the first session. (The sandbox
    /// logs what it enforces when it is created.)
    /// </summary>
    private static void CheckSandbox(IServiceProvider services)
    {
        var capabilities = services.GetRequiredService<ISandboxRuntime>().Capabilities;
        if (!capabilities.Available)
        {
            throw new SettingsException(
                $"The embedded worker cannot run sandboxes: {capabilities.Problem}\n" +
                "Fix that, or set KENNEL_EMBEDDED_WORKER=false to run the control plane alone with remote workers.");
        }
    }

    private static async Task WriteSecretFileAsync(string path, string secret, CancellationToken cancellationToken)
    {
        await using var stream = SecretFile.Create(path);
        await using var writer = new StreamWriter(stream);
        await writer.WriteLineAsync(secret.AsMemory(), cancellationToken);
    }
}
