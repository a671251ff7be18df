using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Snapshots;
using Kennel.Testing;

namespace Kennel.Tests.Snapshots;

/// <summary>
/// Servers whose snapshot images live in one directory for the whole test run, so the debootstrap output (the slow part
/// of a build, ~1 min) is made once and every later build starts from the installation's copy of it.
/// </summary>
public sealed class SnapshotServers() : ServersPerStore(s => s with { Snapshots = s.Snapshots with { Directory = SnapshotApi.SharedImages } });

internal static class SnapshotApi
{
    /// <summary>The snapshot test classes run one after the other, so the first debootstrap is the only one.</summary>
    public const string Collection = "snapshots";

    public static readonly string SharedImages = CreateSharedImages();

    public const string Minbase = """
        base:
          debootstrap: {suite: bookworm, variant: minbase}
        """;

    public static async Task<SnapshotView> StartBuildAsync(this HttpClient client, string name, string recipe, params string[] tags)
    {
        using var response = await client.PostAsJsonAsync("/v1/snapshots", new BuildSnapshotRequest { Name = name, Recipe = recipe, Tags = tags },
            KennelJson.Default.BuildSnapshotRequest);
        ((int)response.StatusCode).ShouldBe(202, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.SnapshotView))!;
    }

    // scripts/test.sh names a folder in its own state, which it removes at the end of the run, whatever ends the tests.
    private static string CreateSharedImages()
    {
        if (Environment.GetEnvironmentVariable("KENNEL_TEST_SNAPSHOT_DIR") is { Length: > 0 } given)
        {
            return Directory.CreateDirectory(given).FullName;
        }
        var directory = Directory.CreateTempSubdirectory("kennel-snapshot-images-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return directory;
    }

    /// <summary>
    /// Builds and waits (following the log as the CLI does, again whenever the client's own timeout cuts a follow short,
    /// as a first debootstrap under load can) until the build has ended; returns it with its log.
    /// </summary>
    public static async Task<SnapshotView> BuildAsync(this HttpClient client, string name, string recipe, params string[] tags)
    {
        var started = await client.StartBuildAsync(name, recipe, tags);
        started.Status.ShouldBe("building");
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        while (true)
        {
            var view = (await client.GetFromJsonAsync($"/v1/snapshots/{started.Id}", KennelJson.Default.SnapshotView, deadline.Token))!;
            if (view.Status != "building")
            {
                return view;
            }
            try
            {
                await client.GetStringAsync($"/v1/snapshots/{started.Id}/log?follow=true", deadline.Token);
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
                // The client's timeout, not the test's: follow again.
            }
        }
    }
}
