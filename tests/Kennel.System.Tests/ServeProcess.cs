using Kennel.Testing;

namespace Kennel.SystemTests;

/// <summary>
/// <c>kennel serve</c> as a child process on a free loopback port with a data dir (and, for PostgreSQL, a database) of
/// its own. It can be killed and started again on the same port, data dir and database, as an operator would.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string?> env;
    private readonly List<KennelProcess> generations = [];

    private ServeProcess(string dataDir, string? databaseUrl, int port, Dictionary<string, string?> env)
    {
        DataDir = dataDir;
        DatabaseUrl = databaseUrl;
        Url = new Uri($"http://127.0.0.1:{port}/");
        this.env = env;
    }

    public string DataDir { get; }
    public string? DatabaseUrl { get; }
    public Uri Url { get; }

    /// <summary>The current process (a new one after each restart).</summary>
    public KennelProcess Process => generations[^1];

    /// <summary>The bootstrap admin key, as the first start wrote it.</summary>
    public string AdminKey => File.ReadAllText(Path.Combine(DataDir, "admin-api-key")).Trim();

    /// <summary>Environment for the CLI: this server's URL and the admin key (or <paramref name="apiKey"/>).</summary>
    public IReadOnlyDictionary<string, string?> CliEnvironment(string? apiKey = null) => new Dictionary<string, string?>
    {
        ["KENNEL_URL"] = Url.ToString(),
        ["KENNEL_API_KEY"] = apiKey ?? AdminKey,
    };

    /// <summary>
    /// Starts <c>kennel serve</c> with <paramref name="settings"/> (KENNEL_* variables) on top of its own listen address,
    /// data dir and store.
    /// </summary>
    public static async Task<ServeProcess> StartAsync(string store = TestStore.Sqlite, IReadOnlyDictionary<string, string>? settings = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-serve-").FullName;
        var databaseUrl = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        var port = LoopbackPort.Free();
        var env = new Dictionary<string, string?>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["KENNEL_DATABASE_URL"] = databaseUrl,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }
        var serve = new ServeProcess(dataDir, databaseUrl, port, env);
        try
        {
            await serve.StartProcessAsync();
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
        return serve;
    }

    public HttpClient Client(string? apiKey = null) => TestServer.Client(Url, apiKey ?? AdminKey);

    public Task<CliResult> CliAsync(params string[] args) => Cli.RunAsync(CliEnvironment(), args);

    public Task<CliResult> CliSucceedsAsync(params string[] args) => Cli.SucceedAsync(CliEnvironment(), args);

    /// <summary>SIGKILL: the control plane dies as in a crash, its embedded worker and that worker's sandboxes with it.</summary>
    public Task KillHardAsync() => Process.KillHardAsync();

    /// <summary>SIGTERM, as a service manager stops it.</summary>
    public Task TerminateAsync() => Process.TerminateAsync();

    /// <summary>Starts a new process on the same port, data dir and database.</summary>
    public Task RestartAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var process in generations)
        {
            await process.DisposeAsync();
        }
        if (DatabaseUrl is not null)
        {
            await TestStore.DropDatabaseAsync(DatabaseUrl);
        }
        Directory.Delete(DataDir, recursive: true);
    }

    private async Task StartProcessAsync()
    {
        var process = KennelProcess.Start(env, "serve");
        generations.Add(process);
        await process.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(60));
    }
}
