using System.Reflection;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Mcp;
using Kennel.Testing;
using ModelContextProtocol.Server;

namespace Kennel.Mcp.Tests;

/// <summary>The server tools over MCP, against a real sshd in its own network namespace.</summary>
public sealed class ServerToolTests(ServersWithoutWorkers servers, TestSshd sshd) : IClassFixture<ServersWithoutWorkers>, IClassFixture<TestSshd>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Test_connection_logs_in_and_reports_the_machine_or_why_not(string store)
    {
        var server = await servers.GetAsync(store);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var ok = await client.CallAsync("test-connection", JsonSerializer.Serialize(new { address = sshd.Address, password = TestSshd.RootPassword }));
        var refused = await client.CallAsync("test-connection", JsonSerializer.Serialize(new { address = sshd.Address, port = 22, username = "root", password = "wrong" }));
        var keyed = await client.CallAsync("test-connection", JsonSerializer.Serialize(new
        {
            address = sshd.Address,
            privateKey = sshd.EncryptedKey,
            passphrase = TestSshd.KeyPassphrase,
            expectedHostKey = sshd.HostKeyFingerprint,
        }));

        var test = ok.StructuredContent!.Value.Deserialize(KennelJson.Default.ConnectionTest)!;
        test.Ok.ShouldBeTrue(ok.Text());
        test.HostKey!.Fingerprint.ShouldBe(sshd.HostKeyFingerprint);
        ok.Text().ShouldContain(sshd.HostKeyFingerprint);
        ok.Text().ShouldContain("bubblewrap usable");
        var failed = refused.StructuredContent!.Value.Deserialize(KennelJson.Default.ConnectionTest)!;
        failed.Ok.ShouldBeFalse();
        failed.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        refused.Text().ShouldStartWith("root@" + sshd.Address + " port 22: auth_failed");
        refused.Text().ShouldNotContain("wrong");
        keyed.StructuredContent!.Value.Deserialize(KennelJson.Default.ConnectionTest)!.HostKey!.Trust.ShouldBe("pinned");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Add_server_answers_provisioning_list_servers_follows_it_and_delete_server_removes_it(string store)
    {
        var server = await servers.GetAsync(store);
        await using var client = await server.ConnectAsync(server.AdminKey);
        var name = $"mcp-{Guid.NewGuid():N}"[..14];

        var added = (await client.CallAsync("add-server", JsonSerializer.Serialize(new
        {
            address = sshd.Address,
            name,
            password = "wrong",
            controlPlaneUrl = server.Url.ToString(),
        }))).StructuredContent!.Value.Deserialize(KennelJson.Default.Server)!;
        Server? listed = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (listed?.Status != ServerStatuses.Failed && DateTime.UtcNow < deadline)
        {
            var list = await client.CallAsync("list-servers");
            listed = list.StructuredContent!.Value.Deserialize(KennelJson.Default.ServerList)!.Items.Single(s => s.Id == added.Id);
        }
        var deleted = await client.CallAsync("delete-server", JsonSerializer.Serialize(new { id = added.Id }));
        var missing = (await client.CallAsync("delete-server", JsonSerializer.Serialize(new { id = added.Id }))).Failure();

        added.Status.ShouldBe(ServerStatuses.Provisioning);
        listed!.Status.ShouldBe(ServerStatuses.Failed);
        listed.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        deleted.IsError.ShouldNotBe(true);
        deleted.Text().ShouldContain(name);
        missing.Error.ShouldBe("not_found");
    }

    [Theory]
    [InlineData("""{"address": "root@10.0.0.1", "password": "x"}""", "address")]
    [InlineData("""{"address": "10.0.0.1", "port": 70000, "password": "x"}""", "port")]
    [InlineData("""{"address": "10.0.0.1", "privateKey": "garbage"}""", "privateKey")]
    [InlineData("""{"address": "10.0.0.1"}""", "password")]
    public async Task Bad_input_is_an_invalid_arguments_error_naming_the_field(string arguments, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var client = await server.ConnectAsync(server.AdminKey);

        var refused = (await client.CallAsync("test-connection", arguments)).Failure();

        refused.Error.ShouldBe("invalid_arguments");
        refused.Field.ShouldBe(field);
    }

    [Fact]
    public async Task Huge_keys_are_refused_and_other_workspaces_do_not_see_the_tools()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        await using var admin = await server.ConnectAsync(server.AdminKey);
        await using var foreign = await server.ConnectAsync(await server.NewKeyAsync(null, Scopes.Read, Scopes.Write, Scopes.Admin));

        var huge = (await admin.CallAsync("test-connection", JsonSerializer.Serialize(new { address = "10.0.0.1", privateKey = new string('A', 200_000) }))).Failure();
        var names = (await foreign.ListToolsAsync()).Select(t => t.Name).ToList();
        var refused = (await foreign.CallAsync("test-connection", JsonSerializer.Serialize(new { address = sshd.Address, password = TestSshd.RootPassword }))).Failure();

        huge.Field.ShouldBe("privateKey");
        huge.Message.ShouldContain("16 KiB");
        names.ShouldNotContain("test-connection");
        names.ShouldNotContain("add-server");
        names.ShouldNotContain("list-servers");
        names.ShouldNotContain("delete-server");
        refused.Error.ShouldBe("workspace_forbidden");
    }

    [Fact]
    public void Every_server_tool_needs_the_admin_scope_and_the_default_workspace()
    {
        var tools = typeof(ServerTools).GetMethods().Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null).ToList();

        tools.ShouldNotBeEmpty();
        foreach (var tool in tools)
        {
            string.Join(' ', ToolGuard.RequiredScopes(tool)).ShouldBe("mcp:admin");
            tool.GetCustomAttribute<InstallationOnlyAttribute>().ShouldNotBeNull();
        }
    }
}
