using System.Net.Http.Headers;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Testing;

/// <summary>
/// A real Kennel control plane in this process: Kestrel on a free loopback port, a real store, the real bubblewrap
/// embedded worker. Tests talk to it over HTTP exactly as users do.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly KennelServer server;
    private readonly string? postgres;
    private readonly bool ownsDataDir;

    private TestServer(KennelServer server, KennelSettings settings, string? postgres, bool ownsDataDir)
    {
        this.server = server;
        Settings = settings;
        this.postgres = postgres;
        this.ownsDataDir = ownsDataDir;
        AdminKey = server.BootstrapKey ?? File.ReadAllText(Path.Combine(settings.DataDir, "admin-api-key")).Trim();
    }

    public KennelSettings Settings { get; }
    public Uri Url => server.Url;
    public string AdminKey { get; }
    public KennelServer Server => server;

    /// <summary>
    /// Starts a server. <paramref name="configure"/> adjusts settings (a short lease, no embedded worker, …); its log goes
    /// nowhere unless <paramref name="logging"/> sends it somewhere (a <see cref="LogCapture"/>).
    /// </summary>
    public static async Task<TestServer> StartAsync(string store, Func<KennelSettings, KennelSettings>? configure = null, string? dataDir = null, string? databaseUrl = null,
        Action<Microsoft.Extensions.Logging.ILoggingBuilder>? logging = null)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("kennel-test-").FullName;
        var postgres = store == TestStore.Postgres ? databaseUrl ?? await TestStore.CreateDatabaseAsync() : null;
        var settings = new KennelSettings
        {
            Listen = "127.0.0.1:0",
            DataDir = dataDir,
            DatabaseUrl = postgres,
            EmbeddedWorkerCapacity = new(8, 8192, 16),
            ControlPlane = new ControlPlaneOptions { LeaseTtl = TimeSpan.FromSeconds(5), ReaperInterval = TimeSpan.FromMilliseconds(200) },
            // Tests drive one admin key through /mcp far faster than a person would; the rate-limit tests set their own.
            Mcp = new Kennel.Mcp.McpHttpOptions { RateLimitPerMinute = 0 },
            // Likewise for client registrations and sign-ins, all from 127.0.0.1; the limit tests set their own.
            OAuth = new Kennel.ControlPlane.OAuth.OAuthOptions { RegistrationsPerMinute = 0, LoginsPerMinute = 0 },
        };
        settings = configure?.Invoke(settings) ?? settings;
        var server = await KennelServer.StartAsync(settings, logging ?? (_ => { }));
        return new TestServer(server, settings, databaseUrl is null ? postgres : null, ownsDataDir);
    }

    /// <summary>An HTTP client for the REST API, authenticated with <paramref name="apiKey"/> (the admin key by default; null for none).</summary>
    public HttpClient Client(string? apiKey = "") => Client(Url, apiKey == "" ? AdminKey : apiKey);

    public static HttpClient Client(Uri url, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(120) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        if (postgres is not null)
        {
            await TestStore.DropDatabaseAsync(postgres);
        }
        if (ownsDataDir)
        {
            Directory.Delete(Settings.DataDir, recursive: true);
            // The embedded worker's skill cache lives in the shared folder, apart from the data dir.
            foreach (var cache in new[] { Worker.DefaultSandbox.SkillDirectory(Settings.DataDir, Settings.SandboxSharedDirectory),
                Worker.DefaultSandbox.SnapshotDirectory(Settings.DataDir, Settings.SandboxSharedDirectory) })
            {
                if (Directory.Exists(cache))
                {
                    Directory.Delete(cache, recursive: true);
                }
            }
        }
    }
}
