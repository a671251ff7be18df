using System.Text.Json;
using Kennel.Contracts;
using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel server …</c> as a person types it, against a real <c>kennel serve</c> and a real sshd.</summary>
public sealed class ServerCommandTests(ServeFixture fixture, TestSshd sshd) : IClassFixture<ServeFixture>, IClassFixture<TestSshd>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task Server_test_logs_in_with_a_password_from_stdin_or_a_key_file_and_exits_1_when_it_cannot()
    {
        var password = await Cli.RunWithInputAsync(Serve.CliEnvironment(), TestSshd.RootPassword + "\n", "server", "test", sshd.Address, "--password-stdin");
        password.ExitCode.ShouldBe(0, password.ToString());
        password.Stdout.ShouldContain($"root@{sshd.Address} port 22: ok");
        password.Stdout.ShouldContain(sshd.HostKeyFingerprint);

        var keyFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keyFile, sshd.EncryptedKey);
            var keyed = await Cli.RunWithInputAsync(Serve.CliEnvironment(), TestSshd.KeyPassphrase, "server", "test", sshd.Address,
                "--key-file", keyFile, "--passphrase-stdin", "--expected-host-key", sshd.HostKeyFingerprint, "--json");
            keyed.ExitCode.ShouldBe(0, keyed.ToString());
            JsonSerializer.Deserialize(keyed.Stdout, KennelJson.Default.ConnectionTest)!.HostKey!.Trust.ShouldBe("pinned");
        }
        finally
        {
            File.Delete(keyFile);
        }

        var wrong = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "wrong", "server", "test", sshd.Address, "--password-stdin");
        wrong.ExitCode.ShouldBe(1, wrong.ToString());
        wrong.Stdout.ShouldContain("auth_failed");

        var bad = await Serve.CliAsync("server", "test", "root@" + sshd.Address, "--key-file", "/etc/hostname");
        bad.ExitCode.ShouldBe(1, bad.ToString());
        bad.Stderr.ShouldContain("(field: address)");
        var neither = await Serve.CliAsync("server", "test", sshd.Address);
        neither.ExitCode.ShouldBe(2, neither.ToString());
    }

    [Fact]
    public async Task Server_add_answers_at_once_and_list_steps_and_delete_follow_it()
    {
        var added = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "wrong", "server", "add", sshd.Address, "--password-stdin", "--name", "cli-box",
            "--control-plane-url", "http://127.0.0.1:4000", "--json");
        added.ExitCode.ShouldBe(0, added.ToString());
        var server = JsonSerializer.Deserialize(added.Stdout, KennelJson.Default.Server)!;
        server.Status.ShouldBe("provisioning");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string table;
        do
        {
            table = (await Serve.CliSucceedsAsync("server", "list")).Stdout;
        }
        while (!table.Contains("failed (auth_failed)", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        table.ShouldContain("cli-box");
        table.ShouldContain("failed (auth_failed)");
        var steps = (await Serve.CliSucceedsAsync("server", "steps", server.Id)).Stdout;
        steps.ShouldContain("provisioning");
        steps.ShouldContain("refused the password for user 'root'");

        (await Serve.CliSucceedsAsync("server", "delete", server.Id)).Stdout.ShouldContain("cli-box");
        (await Serve.CliSucceedsAsync("server", "list")).Stdout.ShouldNotContain("cli-box");
    }

    [Fact]
    public async Task Server_add_ec2_and_delete_refuse_bad_input_naming_the_field()
    {
        var noSecrets = await Serve.CliAsync("server", "add-ec2", "--region", "eu-central-1", "--control-plane-url", "http://127.0.0.1:4000");
        noSecrets.ExitCode.ShouldBe(1, noSecrets.ToString());
        noSecrets.Stderr.ShouldContain("(field: accessKeyIdSecret)");
        noSecrets.Stderr.ShouldContain("AWS_ACCESS_KEY_ID");

        var range = await Serve.CliAsync("server", "add-ec2", "--region", "eu-central-1", "--ssh-from", "0.0.0.0/0", "--control-plane-url", "http://127.0.0.1:4000");
        range.ExitCode.ShouldBe(1, range.ToString());
        range.Stderr.ShouldContain("(field: sshFrom)");

        var noRegion = await Serve.CliAsync("server", "add-ec2");
        noRegion.ExitCode.ShouldBe(1, noRegion.ToString());
        noRegion.Stderr.ShouldContain("Option '--region' is required.");

        var grace = await Serve.CliAsync("server", "delete", "srv_nope", "--grace", "9999");
        grace.ExitCode.ShouldBe(1, grace.ToString());
        grace.Stderr.ShouldContain("(field: graceSeconds)");
        (await Serve.CliSucceedsAsync("server", "list")).Stdout.ShouldNotContain("ec2-");
    }
}
