using System.Text.Json;
using Dapper;
using Kennel.Contracts.Servers;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// <c>POST /v1/servers</c>, <c>GET /v1/servers</c> and <c>DELETE /v1/servers/{id}</c> against a real sshd: the answer
/// at once, the steps logged, failures with their code, and credentials kept only when asked, encrypted.
/// </summary>
public sealed class AddServerTests(ServersWithoutWorkers servers, TestSshd sshd) : IClassFixture<ServersWithoutWorkers>, IClassFixture<TestSshd>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_wrong_password_answers_provisioning_then_fails_with_auth_failed_and_every_step_logged(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var name = $"wrong-{Guid.NewGuid():N}"[..16];

        var added = await admin.AddServerAsync(new AddServerRequest
        {
            Name = name,
            Address = sshd.Address,
            Port = 22,
            Password = "not-the-password",
            ControlPlaneUrl = server.Url.ToString(),
        });
        await using var cleanup = admin.DeletesServer(added.Id);
        var failed = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(30));
        var steps = await admin.ServerStepsAsync(added.Id);

        added.Status.ShouldBe(ServerStatuses.Provisioning);
        added.Name.ShouldBe(name);
        added.AuthMethod.ShouldBe("password");
        added.CredentialKept.ShouldBeFalse();
        failed.Status.ShouldBe(ServerStatuses.Failed);
        failed.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        failed.LastStep!.Status.ShouldBe(ServerStatuses.Failed);
        steps.Items.Select(s => s.Status).ShouldBe([ServerStatuses.Provisioning, ServerStatuses.Connecting, ServerStatuses.Failed]);
        steps.Items.Select(s => s.Seq).ShouldBe([1, 2, 3]);
        JsonSerializer.Serialize(steps).ShouldNotContain("not-the-password");
        (await admin.ListServersAsync()).Items.ShouldContain(s => s.Id == added.Id && s.Status == ServerStatuses.Failed);

        using var deleted = await admin.DeleteAsync($"/v1/servers/{added.Id}");
        ((int)deleted.StatusCode).ShouldBe(200);
        (await admin.ListServersAsync()).Items.ShouldNotContain(s => s.Id == added.Id);
        using var again = await admin.DeleteAsync($"/v1/servers/{added.Id}");
        await again.ShouldBeProblemAsync(404, "not_found");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_user_without_sudo_fails_with_insufficient_privileges_after_the_probe(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var added = await admin.AddServerAsync(new AddServerRequest
        {
            Name = $"plain-{Guid.NewGuid():N}"[..16],
            Address = sshd.Address,
            Username = TestSshd.PlainUser,
            Password = TestSshd.PlainPassword,
            ControlPlaneUrl = server.Url.ToString(),
        });
        await using var cleanup = admin.DeletesServer(added.Id);
        var failed = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(30));

        failed.Status.ShouldBe(ServerStatuses.Failed);
        failed.Error!.Code.ShouldBe(ConnectionErrors.InsufficientPrivileges);
        failed.HostKey.ShouldBe(sshd.HostKeyFingerprint);
        failed.System!.Root.ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_kept_credential_is_stored_encrypted_and_never_returned_and_a_second_add_of_the_same_machine_is_refused(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var request = new AddServerRequest
        {
            Name = $"kept-{Guid.NewGuid():N}"[..16],
            Address = sshd.Address,
            Port = 22,
            Username = TestSshd.PlainUser,
            PrivateKey = sshd.EncryptedKey,
            Passphrase = TestSshd.KeyPassphrase,
            KeepCredential = true,
            ControlPlaneUrl = server.Url.ToString(),
        };

        var added = await admin.AddServerAsync(request);
        await using var cleanup = admin.DeletesServer(added.Id);
        using var duplicate = await admin.PostRawAsync("/v1/servers", JsonSerializer.Serialize(request with { Name = "other-name" }, Kennel.Contracts.KennelJson.Default.AddServerRequest));
        await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(30));

        added.CredentialKept.ShouldBeTrue();
        added.AuthMethod.ShouldBe("private_key");
        await duplicate.ShouldBeProblemAsync(409, "server_exists");
        var stored = await server.Server.Database.ReadAsync(connection => connection.QuerySingleAsync<string>(
            "SELECT credential FROM servers WHERE id = @id", new { id = added.Id }), CancellationToken.None);
        stored.ShouldStartWith("enc:v1:");
        stored.ShouldNotContain(TestSshd.KeyPassphrase);
        var listed = JsonSerializer.Serialize(await admin.ListServersAsync());
        listed.ShouldNotContain(TestSshd.KeyPassphrase);
        listed.ShouldNotContain(sshd.EncryptedKey.Split('\n')[1]);
        listed.ShouldNotContain("enc:v1:");
    }

    [Theory]
    [InlineData("""{"address": "root@10.0.0.1", "password": "x", "controlPlaneUrl": "http://10.0.0.2:4000"}""", "address")]
    [InlineData("""{"address": "10.0.0.1", "password": "x", "controlPlaneUrl": "http://10.0.0.2:4000", "name": "bad name"}""", "name")]
    [InlineData("""{"address": "10.0.0.1", "password": "x", "controlPlaneUrl": "ftp://10.0.0.2"}""", "controlPlaneUrl")]
    [InlineData("""{"address": "10.0.0.1", "password": "x", "controlPlaneUrl": "http://u:p@10.0.0.2/"}""", "controlPlaneUrl")]
    [InlineData("""{"address": "10.0.0.1", "password": "x"}""", "controlPlaneUrl")]
    [InlineData("""{"address": "10.0.0.1", "port": 0, "password": "x", "controlPlaneUrl": "http://10.0.0.2:4000"}""", "port")]
    [InlineData("""{"address": "10.0.0.1", "privateKey": "nope", "controlPlaneUrl": "http://10.0.0.2:4000"}""", "privateKey")]
    public async Task Bad_input_is_refused_naming_the_field_and_nothing_is_added(string body, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();
        var before = (await admin.ListServersAsync()).Items.Count;

        using var response = await admin.PostRawAsync("/v1/servers", body);

        await response.ShouldBeProblemAsync(400, "invalid_request", field);
        (await admin.ListServersAsync()).Items.Count.ShouldBe(before);
    }

    [Theory]
    [InlineData("graceSeconds=-1", "graceSeconds")]
    [InlineData("graceSeconds=601", "graceSeconds")]
    [InlineData("graceSeconds=ten", "graceSeconds")]
    [InlineData("skipDrain=yes", "skipDrain")]
    public async Task Bad_delete_options_are_refused_naming_the_field_and_the_server_stays(string query, string field)
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();
        var added = await admin.AddServerAsync(new AddServerRequest
        {
            Name = $"opts-{Guid.NewGuid():N}"[..16],
            Address = sshd.Blackhole,
            Password = "x",
            TimeoutSeconds = 1,
            ControlPlaneUrl = server.Url.ToString(),
        });
        await using var cleanup = admin.DeletesServer(added.Id);

        using var response = await admin.DeleteAsync($"/v1/servers/{added.Id}?{query}");

        await response.ShouldBeProblemAsync(400, "invalid_request", field);
        (await admin.ListServersAsync()).Items.ShouldContain(s => s.Id == added.Id);
    }
}
