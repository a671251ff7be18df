using System.Text;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Servers;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// Bad input to <c>POST /v1/servers/test</c> is refused before any connection, naming the field; only installation
/// admins may test; and no password, key or passphrase reaches an answer or the log.
/// </summary>
public sealed class ConnectionInputTests(ServersWithoutWorkers servers, TestSshd sshd) : IClassFixture<ServersWithoutWorkers>, IClassFixture<TestSshd>
{
    public static IEnumerable<object[]> BadRequests()
    {
        static object[] Bad(string field, object request) => [field, JsonSerializer.Serialize(request)];
        const string pw = "pw";
        foreach (var address in new[]
        {
            "", " ", "ssh://10.0.0.1", "root@10.0.0.1", "10.0.0.1:22", "999.1.1.1", "10.1", "010.0.0.1", "1.2.3.4.5", "0.0.0.0", "::",
            "224.0.0.1", "255.255.255.255", "ff02::1", "fe80::1%eth0", "-oProxyCommand=sh", "a b", "host_name", "host..example", "-host",
            "host-.example", new string('a', 64) + ".example", string.Join('.', Enumerable.Repeat(new string('a', 60), 5)), "10.0.0.1\n", "ho$t",
        })
        {
            yield return Bad("address", new { address, password = pw });
        }
        yield return Bad("address", new { password = pw });
        foreach (var port in new[] { 0, -1, 65536, int.MaxValue })
        {
            yield return Bad("port", new { address = "10.0.0.1", port, password = pw });
        }
        foreach (var username in new[] { "", "-root", ".x", "a b", "root;id", new string('u', 33), "ro\u00f6t" })
        {
            yield return Bad("username", new { address = "10.0.0.1", username, password = pw });
        }
        yield return Bad("password", new { address = "10.0.0.1" });
        yield return Bad("privateKey", new { address = "10.0.0.1", password = pw, privateKey = "k" });
        yield return Bad("password", new { address = "10.0.0.1", password = "" });
        yield return Bad("password", new { address = "10.0.0.1", password = new string('p', 1025) });
        yield return Bad("passphrase", new { address = "10.0.0.1", password = pw, passphrase = "x" });
        yield return Bad("privateKey", new { address = "10.0.0.1", privateKey = "not a key" });
        yield return Bad("privateKey", new { address = "10.0.0.1", privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" });
        yield return Bad("privateKey", new { address = "10.0.0.1", privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + new string('A', 17 * 1024) + "\n-----END OPENSSH PRIVATE KEY-----\n" });
        yield return Bad("expectedHostKey", new { address = "10.0.0.1", password = pw, expectedHostKey = "MD5:97:70:33:82" });
        yield return Bad("expectedHostKey", new { address = "10.0.0.1", password = pw, expectedHostKey = "SHA256:short" });
        yield return Bad("timeoutSeconds", new { address = "10.0.0.1", password = pw, timeoutSeconds = 0 });
        yield return Bad("timeoutSeconds", new { address = "10.0.0.1", password = pw, timeoutSeconds = 61 });
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_refused_naming_the_field(string field, string body)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();

        using var response = await admin.PostRawAsync("/v1/servers/test", body);

        var problem = await response.ShouldBeProblemAsync(400, "invalid_request", field);
        problem.Detail!.ShouldNotContain("pw\"");
    }

    [Fact]
    public async Task An_encrypted_key_without_its_passphrase_or_with_a_wrong_one_is_refused_naming_the_field()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();

        using var missing = await admin.PostRawAsync("/v1/servers/test",
            JsonSerializer.Serialize(new { address = sshd.Address, privateKey = sshd.EncryptedKey }));
        using var wrong = await admin.PostRawAsync("/v1/servers/test",
            JsonSerializer.Serialize(new { address = sshd.Address, privateKey = sshd.EncryptedKey, passphrase = "wrong passphrase" }));

        (await missing.ShouldBeProblemAsync(400, "invalid_request", "passphrase")).Detail!.ShouldContain("encrypted");
        (await wrong.ShouldBeProblemAsync(400, "invalid_request", "privateKey")).Detail!.ShouldNotContain("wrong passphrase");
    }

    [Fact]
    public async Task Unknown_fields_and_other_workspaces_and_scopes_are_refused()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();
        using var otherAdmin = server.Client((await admin.CreateApiKeyAsync($"t-{Guid.NewGuid():N}"[..20], Scopes.Admin)).Key);
        using var writer = server.Client((await admin.CreateApiKeyAsync(null, Scopes.Read, Scopes.Write)).Key);
        var body = JsonSerializer.Serialize(new { address = sshd.Address, password = TestSshd.RootPassword });

        using var unknown = await admin.PostRawAsync("/v1/servers/test", """{"address": "10.0.0.1", "password": "x", "ip": "10.0.0.1"}""");
        using var foreign = await otherAdmin.PostRawAsync("/v1/servers/test", body);
        using var unscoped = await writer.PostRawAsync("/v1/servers/test", body);
        using var anonymous = await server.Client(null).PostRawAsync("/v1/servers/test", body);

        await unknown.ShouldBeProblemAsync(400, "invalid_json", "ip");
        await foreign.ShouldBeProblemAsync(403, "workspace_forbidden");
        await unscoped.ShouldBeProblemAsync(403, "insufficient_scope");
        await anonymous.ShouldBeProblemAsync(401, "unauthorized");
    }

    [Fact]
    public async Task No_secret_reaches_the_answer_or_the_log()
    {
        var log = new LogCapture();
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, s => s with { EmbeddedWorker = false }, logging: log.AddTo);
        using var admin = server.Client();

        var ok = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Password = TestSshd.RootPassword });
        var keyed = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, PrivateKey = sshd.EncryptedKey, Passphrase = TestSshd.KeyPassphrase });
        var refused = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Password = "wrong-" + TestSshd.RootPassword });

        ok.Ok.ShouldBeTrue();
        keyed.Ok.ShouldBeTrue();
        refused.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        var keyBody = sshd.EncryptedKey.Split('\n')[1];
        var everything = string.Join('\n', log.Lines.Select(l => $"{l.Message} {l.Exception}")) +
            JsonSerializer.Serialize(ok, KennelJson.Default.ConnectionTest) + JsonSerializer.Serialize(keyed, KennelJson.Default.ConnectionTest) +
            JsonSerializer.Serialize(refused, KennelJson.Default.ConnectionTest);
        everything.ShouldContain(sshd.Address);
        everything.ShouldNotContain(TestSshd.RootPassword);
        everything.ShouldNotContain(TestSshd.KeyPassphrase);
        everything.ShouldNotContain(keyBody);
    }
}
