using System.Net.Http.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Hosting;
using Kennel.Testing;
using Kennel.Worker;

namespace Kennel.Tests.Skills;

/// <summary>Servers without the embedded worker, and workers enrolled with a token, for the worker side of skills.</summary>
internal static class SkillWorkers
{
    /// <summary>A server whose provider is <paramref name="model"/> and whose sessions wait for a worker the test enrolls.</summary>
    public static Task<TestServer> StartServerAsync(string store, ScriptedProvider model) => TestServer.StartAsync(store, settings => settings with
    {
        EmbeddedWorker = false,
        Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(model.Url, "v1"), "sk-test-skills")],
        TurnLimits = ChatServers.TestLimits,
    });

    /// <summary>Enrolls a worker with a one-time token, as <c>kennel worker --token</c> does; returns its id and an HTTP client with its credential.</summary>
    public static async Task<(string WorkerId, HttpClient Http)> EnrollAsync(TestServer server, WorkerCapacity capacity)
    {
        using var admin = server.Client();
        using var tokenResponse = await admin.PostAsync("/v1/workers/tokens", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var token = (await tokenResponse.Content.ReadFromJsonAsync(KennelJson.Default.WorkerToken))!.Token;
        using var anonymous = ControlPlaneClient.CreateHttpClient(server.Url, null);
        var enrolled = await ControlPlaneClient.EnrollAsync(anonymous, new EnrollRequest(token, $"skills-{Guid.NewGuid():N}"[..20], capacity, null),
            CancellationToken.None);
        return (enrolled.WorkerId, ControlPlaneClient.CreateHttpClient(server.Url, enrolled.Credential));
    }

    /// <summary>Polls until a session is handed out (an agent's exec, sent without waiting), for at most a minute.</summary>
    public static async Task<SessionAssignment> ClaimAsync(Func<Task<IReadOnlyList<SessionAssignment>>> poll)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await poll() is [var assignment, ..])
            {
                return assignment;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The exec session was never assigned.");
    }
}
