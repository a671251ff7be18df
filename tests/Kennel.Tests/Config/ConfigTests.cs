using System.Text;
using System.Text.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Config;

/// <summary>The workspace config document over REST, on both stores: paths, hashes, versions, rollback, tenancy, refusals.</summary>
public sealed class ConfigTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_value_set_by_path_reads_back_with_the_documents_hash(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();
        var empty = await client.GetConfigAsync();
        empty.Value.GetRawText().ShouldBe("{}");
        empty.Version.ShouldBe(0);

        var write = await client.SetConfigOkAsync("agents.main.thinking", "\"low\"", empty.Hash);
        var tools = await client.SetConfigOkAsync("agents.main.tools", """["exec"]""");

        write.Version.ShouldBe(1);
        write.ChangedPaths.ShouldBe(["agents"]);
        tools.ChangedPaths.ShouldBe(["agents.main.tools"]);
        var thinking = await client.GetConfigAsync("agents.main.thinking");
        thinking.Value.GetString().ShouldBe("low");
        thinking.Hash.ShouldBe(tools.Hash);
        thinking.Hash.ShouldNotBe(write.Hash);
        (await client.GetConfigAsync("agents.main.tools[0]")).Value.GetString().ShouldBe("exec");
        using var missing = await client.GetAsync("/v1/config?path=agents.helper");
        await missing.ShouldBeProblemAsync(404, "not_found", "path");
        var same = await client.SetConfigOkAsync("agents.main.thinking", "\"low\"");
        same.Version.ShouldBe(2);
        same.ChangedPaths.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_write_with_a_stale_hash_loses_cleanly_and_names_the_current_hash(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();
        var read = await client.GetConfigAsync();

        using var first = client.SetConfigAsync("agents.main.instructions", "\"Be brief.\"", read.Hash);
        using var second = client.SetConfigAsync("agents.main.thinking", "\"high\"", read.Hash);
        var answers = await Task.WhenAll(first, second);

        answers.Count(answer => (int)answer.StatusCode == 200).ShouldBe(1);
        var loser = answers.Single(answer => (int)answer.StatusCode != 200);
        var problem = await loser.ShouldBeProblemAsync(409, "config_conflict", "baseHash");
        var now = await client.GetConfigAsync();
        problem.Detail!.ShouldContain(now.Hash);
        now.Version.ShouldBe(1);
        (await client.ConfigVersionsAsync()).Items.Count.ShouldBe(1);
        var main = now.Value.GetProperty("agents").GetProperty("main");
        main.EnumerateObject().Count().ShouldBe(1, "the loser wrote nothing");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_rollback_restores_the_earlier_document_as_a_new_version(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();
        var first = await client.SetConfigOkAsync("agents.helper", """{"model": "openai/gpt-5-mini", "instructions": "First."}""");
        var earlier = (await client.GetConfigAsync()).Value.GetRawText();
        await client.SetConfigOkAsync("agents.helper.instructions", "\"Second.\"");
        await client.SetConfigOkAsync("models", """{"openai/gpt-5-mini": {"prices": {"input": 9}}}""");

        using var rollback = await client.PostRawAsync("/v1/config/rollback", $$"""{"version": {{first.Version}}}""");

        ((int)rollback.StatusCode).ShouldBe(200, await rollback.Content.ReadAsStringAsync());
        var now = await client.GetConfigAsync();
        now.Value.GetRawText().ShouldBe(earlier);
        now.Version.ShouldBe(4);
        now.Hash.ShouldBe(first.Hash);
        var versions = (await client.ConfigVersionsAsync()).Items;
        versions.Select(v => v.Version).ShouldBe([4L, 3, 2, 1]);
        versions[0].ChangedPaths.ShouldContain("rollback to 1");
        versions[0].ChangedPaths.ShouldContain("models");
        versions[0].Author.ShouldStartWith("key:");
        var old = JsonDocument.Parse(await client.GetStringAsync("/v1/config/versions/2")).RootElement;
        old.GetProperty("document").GetProperty("agents").GetProperty("helper").GetProperty("instructions").GetString().ShouldBe("Second.");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Another_workspace_never_sees_this_ones_config(string store)
    {
        var server = await servers.GetAsync(store);
        using var mine = await server.NewWorkspaceClientAsync();
        using var theirs = await server.NewWorkspaceClientAsync();
        await mine.SetConfigOkAsync("agents.secretive", """{"instructions": "only mine"}""");

        (await theirs.GetConfigAsync()).Value.GetRawText().ShouldBe("{}");
        (await theirs.ConfigVersionsAsync()).Items.ShouldBeEmpty();
        using var version = await theirs.GetAsync("/v1/config/versions/1");
        await version.ShouldBeProblemAsync(404, "not_found");
        using var rollback = await theirs.PostRawAsync("/v1/config/rollback", """{"version": 1}""");
        await rollback.ShouldBeProblemAsync(404, "not_found");
        (await theirs.GetStringAsync("/v1/agents")).ShouldNotContain("secretive");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Writes_that_break_the_schema_are_refused_naming_the_path_and_write_nothing(string store)
    {
        using var client = await (await servers.GetAsync(store)).NewWorkspaceClientAsync();

        (await (await client.SetConfigAsync("agents.main.thinking", "\"extreme\"")).ShouldBeProblemAsync(400, "invalid_request", "agents.main.thinking"))
            .Detail!.ShouldContain("agents.main.thinking");
        await (await client.SetConfigAsync("providers.openai", """{"kind": "gemini"}""")).ShouldBeProblemAsync(400, "invalid_request", "providers.openai.kind");
        await (await client.SetConfigAsync("providers.openai", """{"baseUrl": "https://x"}""")).ShouldBeProblemAsync(400, "invalid_request", "providers.openai");
        await (await client.SetConfigAsync("agents.main.colour", "\"red\"")).ShouldBeProblemAsync(400, "invalid_request", "agents.main.colour");
        await (await client.SetConfigAsync("""models["openai/gpt-4.1"].prices.input""", "-1")).ShouldBeProblemAsync(400, "invalid_request",
            """models["openai/gpt-4.1"].prices.input""");
        await (await client.SetConfigAsync("agents..main", "1")).ShouldBeProblemAsync(400, "invalid_request", "path");
        await (await client.SetConfigAsync("agents.main[", "1")).ShouldBeProblemAsync(400, "invalid_request", "path");
        await (await client.SetConfigAsync("", "{}")).ShouldBeProblemAsync(400, "invalid_request", "path");
        await (await client.SetConfigAsync("providers.openai.apiKey", """{"secretSet": true}""")).ShouldBeProblemAsync(400, "invalid_request");
        using (var noValue = await client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/v1/config")
        {
            Content = new StringContent("""{"path": "agents.main.thinking"}""", Encoding.UTF8, "application/json"),
        }))
        {
            await noValue.ShouldBeProblemAsync(400, "invalid_request", "value");
        }
        using (var unknown = await client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/v1/config")
        {
            Content = new StringContent("""{"path": "agents.main.thinking", "value": "low", "hash": "x"}""", Encoding.UTF8, "application/json"),
        }))
        {
            await unknown.ShouldBeProblemAsync(400, "invalid_json", "hash");
        }
        using (var notObject = await client.PutAsync("/v1/config", new StringContent("""{"value": [1]}""", Encoding.UTF8, "application/json")))
        {
            await notObject.ShouldBeProblemAsync(400, "invalid_request", "path");
        }
        await (await client.PostRawAsync("/v1/config/rollback", "{}")).ShouldBeProblemAsync(400, "invalid_request", "version");
        using (var limit = await client.GetAsync("/v1/config/versions?limit=0"))
        {
            await limit.ShouldBeProblemAsync(400, "invalid_request", "limit");
        }

        (await client.GetConfigAsync()).Version.ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Reading_needs_mcp_read_and_writing_mcp_write(string store)
    {
        var server = await servers.GetAsync(store);
        using var reader = await server.NewWorkspaceClientAsync(Scopes.Read);

        (await reader.GetConfigAsync()).Version.ShouldBe(0);
        (await reader.GetStringAsync("/v1/config/schema")).ShouldContain("\"writeOnly\": true");
        await (await reader.SetConfigAsync("agents.main.thinking", "\"low\"")).ShouldBeForbiddenAsync(Scopes.Write);
        await (await reader.PostRawAsync("/v1/config/rollback", """{"version": 1}""")).ShouldBeForbiddenAsync(Scopes.Write);
        using var anonymous = TestServer.Client(server.Url, null);
        ((int)(await anonymous.GetAsync("/v1/config")).StatusCode).ShouldBe(401);
    }
}
