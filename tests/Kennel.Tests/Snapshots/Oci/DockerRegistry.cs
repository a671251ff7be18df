using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Snapshots.Oci;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>
/// A real registry (Debian's <c>docker-registry</c>, the CNCF distribution server) on a free loopback port, with its
/// storage in a temporary directory, and a test client that pushes images through the distribution API (blob upload
/// POST then PUT, manifest PUT), as <c>docker push</c> does.
/// </summary>
public class DockerRegistry : IAsyncLifetime
{
    private readonly StringBuilder output = new();
    private Process? process;

    protected string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("kennel-registry-").FullName;

    public int Port { get; } = LoopbackPort.Free();

    /// <summary>How references name this registry: <c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Pull options that may reach loopback, as an admin's <c>KENNEL_OUTBOUND_ALLOW_CIDRS=127.0.0.0/8</c> would allow.</summary>
    public static OciPullOptions Options { get; } = new() { Addresses = OutboundAddresses.Parse("127.0.0.0/8", out _)! };

    /// <summary>The <c>auth:</c> section of the registry's config, none by default.</summary>
    protected virtual string Auth => "";

    public virtual async Task InitializeAsync()
    {
        var config = Path.Join(Directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {Path.Join(Directory, "storage")}
            http:
              addr: {Host}
            {Auth}
            """);
        var start = new ProcessStartInfo("docker-registry", ["serve", config]) { RedirectStandardOutput = true, RedirectStandardError = true };
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (process.HasExited)
            {
                break;
            }
            try
            {
                using var answer = await http.GetAsync(new Uri($"http://{Host}/v2/"));
                if (answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"docker-registry did not start:\n{Log}");
    }

    public string Log
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Where the registry keeps a blob's bytes, for a test that tampers with them.</summary>
    public string BlobData(string digest)
    {
        var hex = OciDigest.Hex(digest);
        return Path.Join(Directory, "storage", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    /// <summary>Pushes the image's blobs and its manifest, tagged <paramref name="tag"/>.</summary>
    internal async Task PushAsync(string repository, string tag, TestImage image)
    {
        foreach (var blob in image.Layers.Append(image.Config))
        {
            await PushBlobAsync(repository, blob);
        }
        await PushManifestAsync(repository, tag, image.Manifest);
    }

    internal async Task PushBlobAsync(string repository, TestBlob blob)
    {
        using var http = await ClientAsync(repository);
        using var started = await http.PostAsync(new Uri($"http://{Host}/v2/{repository}/blobs/uploads/"), null);
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted, Log);
        var location = new Uri(new Uri($"http://{Host}/"), started.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        using var content = new ByteArrayContent(blob.Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync(new Uri($"{location}{separator}digest={Uri.EscapeDataString(blob.Digest)}"), content);
        put.StatusCode.ShouldBe(HttpStatusCode.Created, Log);
    }

    internal async Task PushManifestAsync(string repository, string reference, TestBlob manifest)
    {
        using var http = await ClientAsync(repository);
        using var content = new ByteArrayContent(manifest.Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        using var put = await http.PutAsync(new Uri($"http://{Host}/v2/{repository}/manifests/{reference}"), content);
        put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
    }

    /// <summary>A client allowed to push to <paramref name="repository"/>.</summary>
    protected virtual Task<HttpClient> ClientAsync(string repository) => Task.FromResult(new HttpClient());

    public virtual async Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void Record(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
