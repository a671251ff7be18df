using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Workspaces;
using Kennel.Testing;
using Kennel.Tests.Config;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Agents;

/// <summary>
/// Agents, models and providers as a workspace configures them, on both stores, with no installation-wide provider:
/// <c>main</c> from the start, the catalogue with overrides, a provider key kept as a secret and used by a real call.
/// </summary>
public sealed class AgentCatalogueTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_new_workspace_has_main_and_the_shipped_models(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();

        var agents = JsonDocument.Parse(await client.GetStringAsync("/v1/agents")).RootElement.GetProperty("items");
        agents.GetArrayLength().ShouldBe(1);
        agents[0].GetProperty("name").GetString().ShouldBe("main");
        agents[0].GetProperty("configured").GetBoolean().ShouldBeFalse();
        agents[0].GetProperty("thinking").GetString().ShouldBe("off");
        var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models")).RootElement.GetProperty("items").EnumerateArray().ToList();
        var sonnet = models.Single(model => model.GetProperty("id").GetString() == "anthropic/claude-sonnet-4-5");
        sonnet.GetProperty("thinking").GetBoolean().ShouldBeTrue();
        sonnet.GetProperty("contextWindow").GetInt32().ShouldBe(200_000);
        sonnet.GetProperty("prices").GetProperty("cacheWrite").GetDecimal().ShouldBe(3.75m);
        sonnet.GetProperty("available").GetBoolean().ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task The_config_overrides_and_adds_models_and_agents(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();
        await client.SetConfigOkAsync("providers.local", """{"kind": "openai", "baseUrl": "http://127.0.0.1:11434/v1"}""");
        await client.SetConfigOkAsync("""models["openai/gpt-4.1"].prices.input""", "9");
        await client.SetConfigOkAsync("""models["local/llama3.2"]""", """{"contextWindow": 131072}""");
        await client.SetConfigOkAsync("agents.main", """{"model": "local/llama3.2", "thinking": "medium"}""");
        await client.SetConfigOkAsync("agents.coder", """{"instructions": "Write code.", "tools": []}""");

        var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models")).RootElement.GetProperty("items").EnumerateArray().ToList();
        var gpt41 = models.Single(model => model.GetProperty("id").GetString() == "openai/gpt-4.1").GetProperty("prices");
        gpt41.GetProperty("input").GetDecimal().ShouldBe(9m);
        gpt41.GetProperty("output").GetDecimal().ShouldBe(8m, "what the config leaves out keeps the shipped price");
        var llama = models.Single(model => model.GetProperty("id").GetString() == "local/llama3.2");
        llama.GetProperty("contextWindow").GetInt32().ShouldBe(131072);
        llama.GetProperty("available").GetBoolean().ShouldBeTrue();
        var agents = JsonDocument.Parse(await client.GetStringAsync("/v1/agents")).RootElement.GetProperty("items");
        agents.EnumerateArray().Select(agent => agent.GetProperty("name").GetString()).ShouldBe(["main", "coder"]);
        agents[0].GetProperty("model").GetString().ShouldBe("local/llama3.2");
        agents[0].GetProperty("thinking").GetString().ShouldBe("medium");
        agents[0].GetProperty("configured").GetBoolean().ShouldBeTrue();
        agents[1].GetProperty("model").GetString().ShouldBe("local/gpt-5-mini", "an agent without a model takes the first provider's default");
        agents[1].GetProperty("tools").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task With_no_provider_a_chat_fails_at_once_saying_how_to_configure_one(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, workspace) = await NewWorkspaceAsync(server);
        using var _ = client;

        var failure = await Should.ThrowAsync<ProviderException>(() =>
            server.Server.Services.GetRequiredService<AgentService>().ChatForAsync(workspace, "main", CancellationToken.None));

        failure.Code.ShouldBe("provider_not_configured");
        failure.Message.ShouldContain("OPENAI_API_KEY");
        failure.Message.ShouldContain("kennel config set providers.openai");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_provider_key_is_write_only_encrypted_at_rest_and_sent_to_the_provider(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, workspace) = await NewWorkspaceAsync(server);
        using var _ = client;
        await using var provider = await ScriptedProvider.StartAsync();
        var key = $"sk-local-{Guid.NewGuid():N}";
        await client.SetConfigOkAsync("providers.local", $$"""{"kind": "openai", "baseUrl": "{{provider.Url}}v1", "apiKey": "{{key}}"}""");
        await client.SetConfigOkAsync("agents.main.model", "\"local/qwen3\"");

        (await client.GetConfigAsync("providers.local.apiKey")).Value.GetRawText().ShouldBe("""{"secretSet":true}""");
        await (await client.SetConfigAsync("agents.main.thinking", "\"extreme\"")).ShouldBeProblemAsync(400, "invalid_request", "agents.main.thinking");
        foreach (var path in new[] { "/v1/config", "/v1/config/versions", "/v1/config/versions/1", "/v1/secrets", "/v1/agents", "/v1/models" })
        {
            (await client.GetStringAsync(path)).ShouldNotContain(key, customMessage: path);
        }
        (await server.ReadAllValuesAsync()).ShouldNotContain(value => value.Value.Contains(key, StringComparison.Ordinal));
        var chat = await server.Server.Services.GetRequiredService<AgentService>().ChatForAsync(workspace, "main", CancellationToken.None);
        provider.ThenEvents(
            (null, """{"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen3","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"""),
            (null, "[DONE]"));

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "say hello")]))
        {
            updates.Add(update);
        }
        var answer = updates.ToChatResponse();

        answer.Text.ShouldBe("hi");
        chat.Model.Ref.ShouldBe("local/qwen3");
        provider.Requests.Single().Headers.Authorization.ToString().ShouldBe($"Bearer {key}");
        await client.SetConfigOkAsync("providers.local.apiKey", "null");
        (await server.ReadAllValuesAsync()).ShouldNotContain(value => value.Table == "secrets" && value.Value.StartsWith("config:", StringComparison.Ordinal),
            "removing the key deletes its secret");
    }

    /// <summary>A client of a new workspace, and the workspace's id (what the agent runtime is called with).</summary>
    private static async Task<(HttpClient Client, string WorkspaceId)> NewWorkspaceAsync(TestServer server)
    {
        using var admin = server.Client();
        var name = $"a-{Guid.NewGuid():N}"[..20];
        var created = await admin.CreateApiKeyAsync(name, Kennel.Contracts.ApiKeys.Scopes.Read, Kennel.Contracts.ApiKeys.Scopes.Write);
        var workspace = await server.Server.Services.GetRequiredService<WorkspaceStore>().FindByNameAsync(name, CancellationToken.None);
        return (server.Client(created.Key), workspace!.Id);
    }
}
