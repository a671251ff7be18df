using System.Runtime.InteropServices;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// Where the <c>kennel</c> build that <c>add-server</c> uploads comes from: a self-contained single-file publish per
/// architecture (<c>KENNEL_WORKER_BINARY_X86_64</c>, <c>KENNEL_WORKER_BINARY_AARCH64</c>). For the control plane's own
/// architecture the default is the running executable itself, when it is such a publish.
/// </summary>
public sealed record ServerOptions
{
    public IReadOnlyDictionary<string, string> WorkerBinaries { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary><c>KENNEL_EXTERNAL_URL</c>: where new workers reach the control plane, unless add-server names another URL.</summary>
    public string? ExternalUrl { get; init; }

    /// <summary>How long a new worker has to poll after its service started before the server is failed.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// <c>KENNEL_EC2_SERVICE_URL</c>: where add-server-ec2 sends its EC2 calls instead of the region's endpoint (an EC2
    /// compatible API, or the tests' fake). Unset in production.
    /// </summary>
    public string? Ec2ServiceUrl { get; init; }

    /// <summary>How long a launched instance has to be running with an address and to accept SSH.</summary>
    public TimeSpan LaunchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public static ServerOptions FromEnvironment(Func<string, string?> read, string? externalUrl)
    {
        var binaries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (OwnBinary() is { } own)
        {
            binaries[own.Architecture] = own.Path;
        }
        foreach (var architecture in ServerProbe.SupportedArchitectures)
        {
            if (read($"KENNEL_WORKER_BINARY_{architecture.ToUpperInvariant()}") is { Length: > 0 } path)
            {
                binaries[architecture] = path;
            }
        }
        return new ServerOptions { WorkerBinaries = binaries, ExternalUrl = externalUrl, Ec2ServiceUrl = read("KENNEL_EC2_SERVICE_URL") is { Length: > 0 } ec2 ? ec2 : null };
    }

    // In a single-file publish assemblies have no file of their own; under 'dotnet kennel.dll', or a plain publish's apphost, they do.
    private static (string Architecture, string Path)? OwnBinary() =>
        string.IsNullOrEmpty(typeof(ServerOptions).Assembly.Location) && Environment.ProcessPath is { } path
            ? (RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64", path)
            : null;
}
