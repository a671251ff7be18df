using Kennel.Agents.Providers;
using Kennel.Agents.Runtime;
using Kennel.ControlPlane.Hosting;
using Xunit;

namespace Kennel.Testing;

/// <summary>
/// One server per store whose installation provider is <see cref="Model"/>, a scripted OpenAI-compatible server on
/// loopback (as <c>OPENAI_BASE_URL</c> would make it), with the embedded bubblewrap worker for <c>exec</c>.
/// </summary>
public class ChatServers : IAsyncLifetime
{
    private readonly TurnLimits limits;

    public ChatServers()
        : this(TestLimits)
    {
    }

    protected ChatServers(TurnLimits limits) => this.limits = limits;

    private readonly Dictionary<string, Task<TestServer>> servers = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public ScriptedProvider Model { get; private set; } = null!;

    public static TurnLimits TestLimits { get; } = new() { Timeout = TimeSpan.FromMinutes(2), MaxToolSteps = 2, MaxToolResultChars = 2000 };

    public Task<TestServer> GetAsync(string store)
    {
        lock (gate)
        {
            if (!servers.TryGetValue(store, out var server))
            {
                server = TestServer.StartAsync(store, Configure);
                servers[store] = server;
            }
            return server;
        }
    }

    public KennelSettings Configure(KennelSettings settings) => settings with
    {
        Providers = [new ProviderSettings("openai", ProviderKind.OpenAI, new Uri(Model.Url, "v1"), "sk-test-chat")],
        TurnLimits = limits,
    };

    public async Task InitializeAsync() => Model = await ScriptedProvider.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var server in servers.Values.Where(s => !s.IsFaulted))
        {
            await (await server).DisposeAsync();
        }
        await Model.DisposeAsync();
    }
}
