using System.Text.Json;
using Kennel.Agents.Providers;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.ControlPlane.Usage;
using Kennel.Testing;

namespace Kennel.Mcp.Tests.Agents;

/// <summary><c>config_get</c>, <c>config_set</c> and <c>status</c> through the agent endpoint.</summary>
public sealed class ConfigAndStatusToolTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_write_with_a_stale_base_hash_is_a_conflict_naming_the_current_hash(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Write));

        var read = (await client.CallAsync("config_get")).StructuredContent!.Value;
        var hash = read.GetProperty("hash").GetString()!;
        var written = await client.CallAsync("config_set", $$"""{"path": "agents.main.thinking", "value": "high", "baseHash": "{{hash}}"}""");
        written.IsError.ShouldNotBe(true, written.Text());
        var current = written.StructuredContent!.Value.GetProperty("hash").GetString()!;
        written.StructuredContent!.Value.GetProperty("changedPaths").GetArrayLength().ShouldBeGreaterThan(0);

        var stale = (await client.CallAsync("config_set", $$"""{"path": "agents.main.thinking", "value": "low", "baseHash": "{{hash}}"}""")).Failure();
        stale.Error.ShouldBe("config_conflict");
        stale.Field.ShouldBe("baseHash");
        stale.Message.ShouldContain(current);

        var value = (await client.CallAsync("config_get", """{"path": "agents.main.thinking"}""")).StructuredContent!.Value;
        value.GetProperty("value").GetString().ShouldBe("high");
        value.GetProperty("hash").GetString().ShouldBe(current);
    }

    [Fact]
    public async Task A_provider_key_is_write_only()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Write));

        var written = await client.CallAsync("config_set", """{"path": "providers.local", "value": {"kind": "openai", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "sk-never-shown"}}""");
        written.IsError.ShouldNotBe(true, written.Text());

        var read = await client.CallAsync("config_get", """{"path": "providers.local"}""");
        read.Text().ShouldNotContain("sk-never-shown");
        read.StructuredContent!.Value.GetRawText().ShouldNotContain("sk-never-shown");
        read.StructuredContent!.Value.GetProperty("value").GetProperty("apiKey").GetProperty("secretSet").GetBoolean().ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Status_shows_each_providers_last_call_from_the_ledger(string store)
    {
        var server = await servers.GetAsync(store);
        var workspace = AgentMcp.NewWorkspace();
        await using var client = await server.ConnectAgentAsync(workspace, await server.NewKeyAsync(workspace, Scopes.Read, Scopes.Write));
        (await client.CallAsync("config_set", """{"path": "providers.local", "value": {"kind": "openai", "baseUrl": "http://127.0.0.1:9/v1"}}""")).IsError.ShouldNotBe(true);
        (await client.CallAsync("config_set", """{"path": "providers.spare", "value": {"kind": "anthropic", "baseUrl": "http://127.0.0.1:9"}}""")).IsError.ShouldNotBe(true);
        var id = await server.WorkspaceIdAsync(workspace);
        var local = Ledger.Gpt with { Provider = "local" };
        await server.RecordAsync(id, "main", local, TokenUsage.None, "2026-12-01T10:00:00Z", null);
        await server.RecordAsync(id, "main", local, TokenUsage.None, "2026-12-01T11:00:00Z", "cnv_x", ModelCallOutcome.Error);

        var result = await client.CallAsync("status");

        result.IsError.ShouldNotBe(true, result.Text());
        var status = result.StructuredContent!.Value;
        status.GetProperty("protocol").GetString().ShouldBe("2025-11-25");
        status.GetProperty("store").GetProperty("state").GetString().ShouldBe("ok");
        status.GetProperty("store").GetProperty("kind").GetString().ShouldBe(store);
        // No worker is enrolled in these servers, so no session could start: degraded, saying so.
        status.GetProperty("status").GetString().ShouldBe("degraded");
        status.GetProperty("error").GetString()!.ShouldContain("No workers");
        var providers = status.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var last = providers["local"].GetProperty("lastCall");
        last.GetProperty("outcome").GetString().ShouldBe("error");
        last.GetProperty("at").GetDateTimeOffset().ShouldBe(DateTimeOffset.Parse("2026-12-01T11:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        last.GetProperty("model").GetString().ShouldBe("local/gpt-test");
        providers["local"].GetProperty("source").GetString().ShouldBe("workspace");
        providers["spare"].TryGetProperty("lastCall", out _).ShouldBeFalse();
        result.Text().ShouldContain("provider local (openai, workspace): last call error");
    }
}
