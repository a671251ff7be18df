using System.Text.Json;
using Kennel.Testing;

namespace Kennel.SystemTests;

/// <summary><c>kennel worker</c> as a child process, enrolled with a control plane and keeping its identity in a data dir.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly KennelProcess process;
    private readonly bool ownsDataDir;

    private WorkerProcess(KennelProcess process, string dataDir, bool ownsDataDir)
    {
        this.process = process;
        DataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
    }

    public string DataDir { get; }
    public string IdentityFile => Path.Combine(DataDir, "worker.json");

    /// <summary>The worker's id, from the identity it saved when it enrolled.</summary>
    public string Id => JsonDocument.Parse(File.ReadAllText(IdentityFile)).RootElement.GetProperty("workerId").GetString()!;

    public KennelProcess Process => process;

    /// <summary>Creates a token with the CLI, then starts a worker that enrolls with it, in a new data dir.</summary>
    public static async Task<WorkerProcess> EnrollAsync(ServeProcess serve, params string[] options)
    {
        var token = (await serve.CliSucceedsAsync("worker", "token", "create")).Stdout.Trim();
        return await EnrollWithTokenAsync(serve, token, options);
    }

    /// <summary>Starts a worker that enrolls with <paramref name="token"/>, in a new data dir.</summary>
    public static Task<WorkerProcess> EnrollWithTokenAsync(ServeProcess serve, string token, params string[] options)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-worker-").FullName;
        return StartAsync(dataDir, ownsDataDir: true, ["--url", serve.Url.ToString(), "--token", token, .. options]);
    }

    /// <summary>Starts a worker again from the identity saved in <paramref name="dataDir"/>: no token.</summary>
    public static Task<WorkerProcess> ResumeAsync(string dataDir, params string[] options) =>
        StartAsync(dataDir, ownsDataDir: false, options);

    /// <summary>SIGKILL: the worker dies as in a crash, its sandboxes with it.</summary>
    public Task KillHardAsync() => process.KillHardAsync();

    public Task TerminateAsync() => process.TerminateAsync();

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        if (ownsDataDir)
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }

    private static async Task<WorkerProcess> StartAsync(string dataDir, bool ownsDataDir, string[] options)
    {
        var process = KennelProcess.Start(new Dictionary<string, string?>(), ["worker", "--data-dir", dataDir, "--name", $"w{Guid.NewGuid():N}"[..12], .. options]);
        var worker = new WorkerProcess(process, dataDir, ownsDataDir);
        try
        {
            await process.WaitForOutputAsync("Worker started", TimeSpan.FromSeconds(60));
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
        return worker;
    }
}
