using System.Text.Json;
using Kennel.Contracts;

namespace Kennel.SystemTests.CommandLine;

public sealed class ApiKeyCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task A_created_key_works_is_listed_without_its_secret_and_stops_working_when_revoked()
    {
        var created = JsonSerializer.Deserialize(
            (await Serve.CliSucceedsAsync("apikey", "create", "--name", "ci", "--scopes", "mcp:read,mcp:write", "--json")).Stdout,
            KennelJson.Default.CreatedApiKey)!;
        created.Key.ShouldStartWith("kn_");
        created.ApiKey.Scopes.ShouldBe(["mcp:read", "mcp:write"], ignoreOrder: true);

        (await Cli.SucceedAsync(Serve.CliEnvironment(created.Key), "session", "list")).ExitCode.ShouldBe(0);

        var listedJson = (await Serve.CliSucceedsAsync("apikey", "list", "--json")).Stdout;
        var listed = JsonSerializer.Deserialize(listedJson, KennelJson.Default.IReadOnlyListApiKey)!;
        listed.ShouldContain(k => k.Id == created.ApiKey.Id && k.Name == "ci");
        listedJson.ShouldNotContain(created.Key);
        var table = (await Serve.CliSucceedsAsync("apikey", "list")).Stdout;
        table.ShouldContain(created.ApiKey.Id);
        table.ShouldNotContain(created.Key);

        await Serve.CliSucceedsAsync("apikey", "revoke", created.ApiKey.Id);

        var refused = await Cli.RunAsync(Serve.CliEnvironment(created.Key), "session", "list");
        refused.ExitCode.ShouldNotBe(0, refused.ToString());
        refused.Stderr.ShouldContain("revoked");
        var revoked = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("apikey", "list", "--json")).Stdout, KennelJson.Default.IReadOnlyListApiKey)!;
        revoked.Single(k => k.Id == created.ApiKey.Id).RevokedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_key_without_admin_scope_cannot_create_keys()
    {
        var reader = JsonSerializer.Deserialize((await Serve.CliSucceedsAsync("apikey", "create", "--scopes", "mcp:read", "--json")).Stdout,
            KennelJson.Default.CreatedApiKey)!;

        var refused = await Cli.RunAsync(Serve.CliEnvironment(reader.Key), "apikey", "create");

        refused.ExitCode.ShouldNotBe(0, refused.ToString());
        refused.Stderr.ShouldContain("mcp:admin");
    }
}
