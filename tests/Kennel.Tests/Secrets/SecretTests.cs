using System.Text;
using Dapper;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Secrets;

/// <summary>
/// Workspace secrets end to end, with the real bubblewrap worker: set, listed without values, seen by a sandboxed
/// workload as an env var, encrypted at rest and bound to their workspace, and never shown to a reader of the session.
/// </summary>
public sealed class SecretTests(SharedServers servers) : IClassFixture<SharedServers>
{
    /// <summary>
    /// Before secrets, a credential for a workload could only go in <c>env</c>, which every <c>mcp:read</c> key of the
    /// workspace reads back. Raw JSON throughout, so this runs unchanged against code without secrets (where it fails).
    /// </summary>
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_viewer_key_never_reads_a_credential_given_to_a_session_or_a_daemon(string store)
    {
        var server = await servers.GetAsync(store);
        using var writer = await server.NewWorkspaceClientAsync();
        var token = $"ghp_{Guid.NewGuid():N}";

        using (var set = await writer.PutAsync("/v1/secrets/GITHUB_TOKEN", new StringContent($$"""{"value": "{{token}}"}""", Encoding.UTF8, "application/json")))
        {
            ((int)set.StatusCode).ShouldBe(201, await set.Content.ReadAsStringAsync());
        }
        using var created = await writer.PostRawAsync("/v1/sessions", """{"script": "test -n \"$GITHUB_TOKEN\"", "secrets": ["GITHUB_TOKEN"]}""");
        var createdBody = await created.Content.ReadAsStringAsync();
        ((int)created.StatusCode).ShouldBe(202, createdBody);
        createdBody.ShouldNotContain(token);
        var session = System.Text.Json.JsonDocument.Parse(createdBody).RootElement;
        var id = session.GetProperty("id").GetString()!;
        using (var daemon = await writer.PostRawAsync("/v1/daemons",
            """{"name": "reviewer", "workload": {"script": "true", "secrets": ["GITHUB_TOKEN"]}, "trigger": {"type": "webhook", "signature": "none"}}"""))
        {
            ((int)daemon.StatusCode).ShouldBe(201, await daemon.Content.ReadAsStringAsync());
        }
        using var admin = server.Client();
        using var viewer = server.Client((await admin.CreateApiKeyAsync(session.GetProperty("workspace").GetString(), Scopes.Read)).Key);

        var finished = await viewer.GetStringAsync($"/v1/sessions/{id}/wait?timeoutMs=60000");
        finished.ShouldContain("\"status\":\"succeeded\"", customMessage: "the workload saw the variable");
        finished.ShouldContain("\"secrets\":[\"GITHUB_TOKEN\"]");
        foreach (var path in new[] { $"/v1/sessions/{id}", "/v1/sessions", $"/v1/sessions/{id}/stream", "/v1/daemons", "/v1/daemons/reviewer", "/v1/secrets" })
        {
            var body = await viewer.GetStringAsync(path);
            body.ShouldNotContain(token, customMessage: path);
            body.ShouldContain("GITHUB_TOKEN", customMessage: path);
        }
        using (var direct = await viewer.GetAsync("/v1/secrets/GITHUB_TOKEN"))
        {
            direct.IsSuccessStatusCode.ShouldBeFalse();
            (await direct.Content.ReadAsStringAsync()).ShouldNotContain(token);
        }
        using (var replace = await viewer.PutAsync("/v1/secrets/GITHUB_TOKEN", new StringContent("""{"value": "mine now"}""", Encoding.UTF8, "application/json")))
        {
            await replace.ShouldBeForbiddenAsync(Scopes.Write);
        }
        using (var delete = await viewer.DeleteAsync("/v1/secrets/GITHUB_TOKEN"))
        {
            await delete.ShouldBeForbiddenAsync(Scopes.Write);
        }
        (await writer.GetStringAsync("/v1/secrets")).ShouldContain("GITHUB_TOKEN");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_sandboxed_session_sees_its_secret_as_an_env_var_and_no_answer_about_the_session_carries_the_value(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var value = $"line one {Guid.NewGuid():N}\nline 'two' \"quoted\" $HOME ü";
        await client.SetSecretAsync("API_TOKEN", value);

        var printed = await client.WaitAsync((await client.CreateSessionAsync(new CreateSessionRequest { Command = ["printenv", "API_TOKEN"], Secrets = ["API_TOKEN"] })).Id);
        printed.Status.ShouldBe(SessionStatus.Succeeded, printed.Stderr);
        printed.Stdout.ShouldBe(value + "\n");

        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "test \"$(printenv API_TOKEN | wc -l)\" = 2 && test \"$MODE\" = plain",
            Env = new Dictionary<string, string> { ["MODE"] = "plain" },
            Secrets = ["API_TOKEN"],
        });
        created.Secrets.ShouldBe(["API_TOKEN"]);
        created.Env.Keys.ShouldBe(["MODE"]);
        var done = await client.WaitAsync(created.Id);
        done.Status.ShouldBe(SessionStatus.Succeeded, done.Stderr);
        foreach (var path in new[] { $"/v1/sessions/{created.Id}", $"/v1/sessions/{created.Id}/wait?timeoutMs=0", $"/v1/sessions/{created.Id}/stream", "/v1/sessions?limit=1" })
        {
            var body = await client.GetStringAsync(path);
            body.ShouldContain("\"secrets\":[\"API_TOKEN\"]", customMessage: path);
            body.ShouldNotContain("line one", customMessage: path);
        }
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_secret_is_stored_encrypted_and_a_value_copied_to_another_workspace_does_not_decrypt(string store)
    {
        var server = await servers.GetAsync(store);
        using var owner = await server.NewWorkspaceClientAsync();
        using var other = await server.NewWorkspaceClientAsync();
        var value = $"plaintext-{Guid.NewGuid():N}";
        var ownerWorkspace = (await owner.SetSecretAsync("DB_PASSWORD", value)).Workspace;
        var otherWorkspace = (await other.SetSecretAsync("DB_PASSWORD", "the other workspace's own value")).Workspace;
        var used = await owner.WaitAsync((await owner.CreateSessionAsync(new CreateSessionRequest { Script = "test -n \"$DB_PASSWORD\"", Secrets = ["DB_PASSWORD"] })).Id);
        used.Status.ShouldBe(SessionStatus.Succeeded, used.Stderr);

        var stored = await server.ReadAllValuesAsync();
        stored.ShouldNotContain(v => v.Value.Contains(value), customMessage: "no table holds the plaintext, not the session's spec either");
        stored.ShouldNotContain(v => v.Value.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes(value))));
        stored.Where(v => v.Table == "secrets" && v.Column == "encrypted_value").ShouldAllBe(v => v.Value.StartsWith("enc:v1:"));

        // The owner's ciphertext, copied into the other workspace's row of the same name: bound to its workspace, it does not decrypt there.
        await server.Server.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "UPDATE secrets SET encrypted_value = (SELECT s.encrypted_value FROM secrets s JOIN workspaces w ON w.id = s.workspace_id " +
            "WHERE w.name = @ownerWorkspace AND s.name = 'DB_PASSWORD') " +
            "WHERE name = 'DB_PASSWORD' AND workspace_id = (SELECT id FROM workspaces WHERE name = @otherWorkspace)",
            new { ownerWorkspace, otherWorkspace }, transaction), CancellationToken.None);
        var refused = await other.WaitAsync((await other.CreateSessionAsync(new CreateSessionRequest { Command = ["printenv", "DB_PASSWORD"], Secrets = ["DB_PASSWORD"] })).Id);

        refused.Status.ShouldBe(SessionStatus.Failed);
        refused.Error!.Code.ShouldBe("secret_unreadable");
        refused.Error.Message.ShouldContain("DB_PASSWORD");
        refused.Stdout.ShouldBeEmpty();
        refused.StartedAt.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_secret_of_one_workspace_cannot_be_referenced_listed_replaced_or_deleted_from_another(string store)
    {
        var server = await servers.GetAsync(store);
        using var owner = await server.NewWorkspaceClientAsync();
        using var intruder = await server.NewWorkspaceClientAsync();
        var value = $"owner-only-{Guid.NewGuid():N}";
        await owner.SetSecretAsync("SHARED_NAME", value);

        using (var session = await intruder.PostRawAsync("/v1/sessions", """{"command": ["printenv", "SHARED_NAME"], "secrets": ["SHARED_NAME"]}"""))
        {
            await session.ShouldBeProblemAsync(400, "secret_not_found", "secrets");
        }
        using (var daemon = await intruder.PostRawAsync("/v1/daemons",
            """{"name": "thief", "workload": {"script": "true", "secrets": ["SHARED_NAME"]}, "trigger": {"type": "webhook", "signature": "none"}}"""))
        {
            await daemon.ShouldBeProblemAsync(400, "secret_not_found", "workload.secrets");
        }
        (await intruder.ListSecretsAsync()).Items.ShouldBeEmpty();
        using (var delete = await intruder.DeleteAsync("/v1/secrets/SHARED_NAME"))
        {
            await delete.ShouldBeProblemAsync(404, "not_found");
        }
        (await intruder.ListSessionsAsync()).Items.ShouldBeEmpty();

        // The same name in the intruder's workspace is a secret of its own; the owner's stays as it was.
        await intruder.SetSecretAsync("SHARED_NAME", "the intruder's value");
        var own = await intruder.WaitAsync((await intruder.CreateSessionAsync(new CreateSessionRequest { Command = ["printenv", "SHARED_NAME"], Secrets = ["SHARED_NAME"] })).Id);
        own.Stdout.ShouldBe("the intruder's value\n");
        var owners = await owner.WaitAsync((await owner.CreateSessionAsync(new CreateSessionRequest { Command = ["printenv", "SHARED_NAME"], Secrets = ["SHARED_NAME"] })).Id);
        owners.Stdout.ShouldBe(value + "\n");
        (await owner.ListSecretsAsync()).Items.ShouldHaveSingleItem().Name.ShouldBe("SHARED_NAME");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_queued_session_whose_secret_is_deleted_before_a_worker_claims_it_fails_with_secret_not_found_without_running(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.SetSecretAsync("SHORT_LIVED", "gone before use");
        // Every vCPU of the embedded worker is taken, so the next session stays queued until this one ends.
        var blocker = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["sleep", "120"], Resources = new SessionResources { Vcpus = server.Settings.EmbeddedWorkerCapacity!.Vcpus } });
        await client.WaitForStatusAsync(blocker.Id, SessionStatus.Running);
        var queued = await client.CreateSessionAsync(new CreateSessionRequest { Command = ["printenv", "SHORT_LIVED"], Secrets = ["SHORT_LIVED"] });

        await client.DeleteSecretAsync("SHORT_LIVED");
        (await client.GetSessionAsync(queued.Id)).Status.ShouldBe(SessionStatus.Pending);
        await client.CancelAsync(blocker.Id);
        var failed = await client.WaitAsync(queued.Id);

        failed.Status.ShouldBe(SessionStatus.Failed);
        failed.Error!.Code.ShouldBe("secret_not_found");
        failed.Error.Message.ShouldContain("SHORT_LIVED");
        failed.ExitCode.ShouldBeNull();
        failed.StartedAt.ShouldBeNull();
        failed.WorkerId.ShouldBeNull();
        failed.Stdout.ShouldBeEmpty();
        (await client.WaitAsync(blocker.Id)).Status.ShouldBe(SessionStatus.Cancelled);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_daemon_names_secrets_that_each_run_sees_and_shows_only_their_names(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.SetSecretAsync("SLACK_TOKEN", "xoxb-daemon-value");

        var daemon = await client.CreateDaemonAsync(DaemonApi.Webhook("notifier", "printenv SLACK_TOKEN; echo \"$KENNEL_DAEMON\"", signature: "none") with
        {
            Workload = new DaemonWorkload { Script = "printenv SLACK_TOKEN; echo \"$KENNEL_DAEMON\"", Secrets = ["SLACK_TOKEN"] },
        });
        daemon.Workload.Secrets.ShouldBe(["SLACK_TOKEN"]);
        var run = await client.WaitAsync((await client.TriggerDaemonAsync("notifier")).SessionId!);

        run.Status.ShouldBe(SessionStatus.Succeeded, run.Stderr);
        run.Stdout.ShouldBe("xoxb-daemon-value\nnotifier\n");
        run.Secrets.ShouldBe(["SLACK_TOKEN"]);
        (await client.GetStringAsync("/v1/daemons/notifier")).ShouldNotContain("xoxb-daemon-value");

        using var missing = await client.PatchAsync("/v1/daemons/notifier",
            new StringContent("""{"workload": {"script": "true", "secrets": ["NOT_SET"]}}""", Encoding.UTF8, "application/json"));
        await missing.ShouldBeProblemAsync(400, "secret_not_found", "workload.secrets");
        (await client.GetDaemonAsync("notifier")).Workload.Secrets.ShouldBe(["SLACK_TOKEN"]);
    }
}
