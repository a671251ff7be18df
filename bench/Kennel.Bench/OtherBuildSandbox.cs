using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Bench;

/// <summary>
/// Another build's bubblewrap runtime (its <c>Kennel.Sandbox.dll</c>, e.g. a checkout before a change), loaded beside
/// this build's in the same process, so <see cref="SandboxBench"/> can alternate the two sample by sample. Its types are
/// its own, so it is driven by reflection through the public API both builds share (<c>BubblewrapSandbox</c>,
/// <c>BubblewrapOptions</c>, <c>SandboxSpec</c>, <c>ISandboxProcess</c>).
/// </summary>
internal sealed class OtherBuildSandbox : IAsyncDisposable
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SandboxContext> Contexts = new();

    private readonly Assembly _assembly;
    private readonly object _runtime;

    private OtherBuildSandbox(Assembly assembly, object runtime)
    {
        _assembly = assembly;
        _runtime = runtime;
    }

    /// <param name="directory">The other build's output directory, holding its Kennel.Sandbox.dll.</param>
    /// <param name="stateDirectory">The runtime's state directory.</param>
    /// <param name="standbySandboxes">Its <c>BubblewrapOptions.StandbySandboxes</c>.</param>
    public static OtherBuildSandbox Load(string directory, string stateDirectory, int standbySandboxes)
    {
        var context = Contexts.GetOrAdd(Path.GetFullPath(directory), path => new SandboxContext(path));
        var assembly = context.LoadFromAssemblyPath(Path.Join(context.Directory, "Kennel.Sandbox.dll"));
        var optionsType = assembly.GetType("Kennel.Sandbox.BubblewrapOptions", throwOnError: true)!;
        var options = Activator.CreateInstance(optionsType)!;
        optionsType.GetProperty("StateDirectory")!.SetValue(options, stateDirectory);
        optionsType.GetProperty("StandbySandboxes")!.SetValue(options, standbySandboxes);
        var runtimeType = assembly.GetType("Kennel.Sandbox.BubblewrapSandbox", throwOnError: true)!;
        var logger = Activator.CreateInstance(typeof(NullLogger<>).MakeGenericType(runtimeType))!;
        var runtime = Activator.CreateInstance(runtimeType, options, logger, null)!;
        return new OtherBuildSandbox(assembly, runtime);
    }

    /// <summary>
    /// As <see cref="SandboxBench"/> runs this build's: start, read stdout to the end, wait for the exit; returns the
    /// stdout, the exit code and the milliseconds from the start to the exit (the clean-up after it is off the clock).
    /// </summary>
    public async Task<(string Stdout, int ExitCode, double Milliseconds)> RunAsync(string sessionId, string[] argv)
    {
        var specType = _assembly.GetType("Kennel.Sandbox.SandboxSpec", throwOnError: true)!;
        var spec = Activator.CreateInstance(specType)!;
        specType.GetProperty("SessionId")!.SetValue(spec, sessionId);
        specType.GetProperty("Snapshot")!.SetValue(spec, "test-minimal");
        specType.GetProperty("Argv")!.SetValue(spec, argv);
        specType.GetProperty("Env")!.SetValue(spec, new Dictionary<string, string>());
        specType.GetProperty("Vcpus")!.SetValue(spec, 1);
        specType.GetProperty("MemoryMb")!.SetValue(spec, 512);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var start = (Task)_runtime.GetType().GetMethod("StartAsync")!.Invoke(_runtime, [spec, CancellationToken.None])!;
        await start;
        var process = start.GetType().GetProperty("Result")!.GetValue(start)!;
        var processType = _assembly.GetType("Kennel.Sandbox.ISandboxProcess", throwOnError: true)!;
        try
        {
            var stdout = (Stream)processType.GetProperty("StandardOutput")!.GetValue(process)!;
            var stderr = (Stream)processType.GetProperty("StandardError")!.GetValue(process)!;
            _ = new StreamReader(stderr).ReadToEndAsync();
            var output = await new StreamReader(stdout).ReadToEndAsync();
            var wait = (Task)processType.GetMethod("WaitForExitAsync")!.Invoke(process, [CancellationToken.None])!;
            await wait;
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var exit = wait.GetType().GetProperty("Result")!.GetValue(wait)!;
            return (output, (int)exit.GetType().GetProperty("ExitCode")!.GetValue(exit)!, elapsed);
        }
        finally
        {
            await (ValueTask)typeof(IAsyncDisposable).GetMethod("DisposeAsync")!.Invoke(process, [])!;
        }
    }

    public ValueTask DisposeAsync() => ((IAsyncDisposable)_runtime).DisposeAsync();

    // The other build's Kennel.* assemblies come from its directory; everything else (the framework, logging) is shared
    // with this process, so NullLogger fits its constructor.
    private sealed class SandboxContext(string directory) : AssemblyLoadContext($"other build: {directory}")
    {
        public string Directory { get; } = directory;

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var path = Path.Join(Directory, assemblyName.Name + ".dll");
            return assemblyName.Name!.StartsWith("Kennel.", StringComparison.Ordinal) && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
