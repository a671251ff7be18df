using System.Text.Json;
using Kennel.Contracts;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel user create|list|passwd|delete</c> against a real <c>kennel serve</c>.</summary>
public sealed class UserCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task A_user_is_created_from_stdin_listed_repassworded_and_deleted()
    {
        var email = $"cli-{Guid.NewGuid():N}"[..12] + "@example.com";
        var created = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "first password 1\n", "user", "create", email, "--password-stdin", "--workspace", "cli-team", "--role", "admin", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var user = JsonSerializer.Deserialize(created.Stdout, KennelJson.Default.User)!;
        user.Email.ShouldBe(email);
        user.Memberships.ShouldHaveSingleItem().ShouldBe(new Contracts.Users.Membership("cli-team", "admin"));

        var table = (await Serve.CliSucceedsAsync("user", "list")).Stdout;
        table.ShouldContain(email);
        table.ShouldContain("cli-team:admin");
        table.ShouldNotContain("first password");

        var promoted = (await Serve.CliSucceedsAsync("user", "set-role", email, "--workspace", "cli-other", "--role", "viewer")).Stdout;
        promoted.ShouldContain("cli-other:viewer");
        promoted.ShouldContain("cli-team:admin");

        var passwd = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "second password 2\n", "user", "passwd", email, "--password-stdin");
        passwd.ExitCode.ShouldBe(0, passwd.ToString());
        passwd.Stdout.ShouldContain($"Password changed for {email}");

        (await Serve.CliSucceedsAsync("user", "delete", email)).Stdout.ShouldContain("deleted");
        (await Serve.CliSucceedsAsync("user", "list")).Stdout.ShouldNotContain(email);
        var again = await Serve.CliAsync("user", "delete", email);
        again.ExitCode.ShouldBe(1, again.ToString());
        again.Stderr.ShouldContain("No such user");
    }

    [Fact]
    public async Task The_password_is_never_taken_from_the_command_line_and_a_short_one_is_refused()
    {
        var missing = await Serve.CliAsync("user", "create", "nopass@example.com");
        missing.ExitCode.ShouldBe(2, missing.ToString());
        missing.Stderr.ShouldContain("--password-stdin");

        var weak = await Cli.RunWithInputAsync(Serve.CliEnvironment(), "short\n", "user", "create", "weak@example.com", "--password-stdin");
        weak.ExitCode.ShouldBe(1, weak.ToString());
        weak.Stderr.ShouldContain("field: password");

        var help = await Serve.CliSucceedsAsync("user", "create", "--help");
        help.Stdout.ShouldContain("--password-stdin");
        help.Stdout.ShouldContain("--role");
    }

    [Fact]
    public async Task The_signing_key_is_rotated_from_the_cli()
    {
        var first = (await Serve.CliSucceedsAsync("oauth", "rotate-signing-key")).Stdout;
        first.ShouldStartWith("Access tokens are now signed by key_");
        var second = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("oauth", "rotate-signing-key", "--json")).Stdout, KennelJson.Default.SigningKeyRotation)!;
        first.ShouldNotContain(second.Kid);
    }
}
