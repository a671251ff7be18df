using System.Text;
using Kennel.Testing;

namespace Kennel.Tests.Secrets;

/// <summary>
/// Bad secret input, and sessions or daemons naming secrets badly: a 4xx problem that names the field, and nothing
/// written. Every test ends by checking that the workspace still has no secret, session or daemon it should not.
/// </summary>
public sealed class SecretValidationTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Bad_names_and_values_are_refused_naming_the_field_and_nothing_is_stored(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        foreach (var (name, body, code, field) in new[]
        {
            ("1BAD", """{"value": "x"}""", "invalid_request", "name"),
            ("has-dash", """{"value": "x"}""", "invalid_request", "name"),
            ("_KENNEL_ARG0", """{"value": "x"}""", "invalid_request", "name"),
            (new string('A', 129), """{"value": "x"}""", "invalid_request", "name"),
            ("OK_NAME", """{}""", "invalid_request", "value"),
            ("OK_NAME", """{"value": null}""", "invalid_request", "value"),
            ("OK_NAME", """{"value": ""}""", "invalid_request", "value"),
            ("OK_NAME", """{"value": "a\u0000b"}""", "invalid_request", "value"),
            ("OK_NAME", $$"""{"value": "{{new string('x', 64 * 1024 + 1)}}"}""", "invalid_request", "value"),
            ("OK_NAME", $$"""{"value": "{{string.Concat(Enumerable.Repeat("é", 32 * 1024 + 1))}}"}""", "invalid_request", "value"),
            ("OK_NAME", """{"value": "\ud800"}""", "invalid_json", "value"),
            ("OK_NAME", """{"value": 42}""", "invalid_json", "value"),
            ("OK_NAME", """{"value": "x", "scope": "all"}""", "invalid_json", "scope"),
        })
        {
            using var response = await client.PutAsync($"/v1/secrets/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
            await response.ShouldBeProblemAsync(400, code, field);
        }
        using (var notJson = await client.PutAsync("/v1/secrets/OK_NAME", new StringContent("value", Encoding.UTF8, "text/plain")))
        {
            await notJson.ShouldBeProblemAsync(400, "invalid_json");
        }
        using (var delete = await client.DeleteAsync("/v1/secrets/1BAD"))
        {
            await delete.ShouldBeProblemAsync(400, "invalid_request", "name");
        }
        (await client.ListSecretsAsync()).Items.ShouldBeEmpty();

        // The bounds themselves are allowed: a 128-character name and a value of exactly 64 KiB.
        var longest = await client.SetSecretAsync(new string('A', 128), new string('x', 64 * 1024));
        longest.Name.Length.ShouldBe(128);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sessions_and_daemons_that_name_secrets_badly_are_refused_naming_the_field(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        await client.SetSecretAsync("TOKEN", "value");
        var tooMany = string.Join(", ", Enumerable.Range(0, 17).Select(i => $"\"S{i}\""));

        foreach (var (body, code, field) in new[]
        {
            ("""{"script": "true", "secrets": ["MISSING"]}""", "secret_not_found", "secrets"),
            ("""{"script": "true", "secrets": ["TOKEN", "MISSING"]}""", "secret_not_found", "secrets"),
            ("""{"script": "true", "secrets": ["1BAD"]}""", "invalid_request", "secrets"),
            ("""{"script": "true", "secrets": ["TOKEN", "TOKEN"]}""", "invalid_request", "secrets"),
            ("""{"script": "true", "secrets": [null]}""", "invalid_request", "secrets"),
            ("""{"script": "true", "env": {"TOKEN": "visible"}, "secrets": ["TOKEN"]}""", "invalid_request", "secrets"),
            ($$"""{"script": "true", "secrets": [{{tooMany}}]}""", "invalid_request", "secrets"),
            ("""{"script": "true", "secrets": "TOKEN"}""", "invalid_json", "secrets"),
        })
        {
            using var response = await client.PostRawAsync("/v1/sessions", body);
            await response.ShouldBeProblemAsync(400, code, field);
        }
        (await client.ListSessionsAsync()).Items.ShouldBeEmpty();

        foreach (var (workload, code) in new[]
        {
            ("""{"script": "true", "secrets": ["MISSING"]}""", "secret_not_found"),
            ("""{"script": "true", "env": {"TOKEN": "x"}, "secrets": ["TOKEN"]}""", "invalid_request"),
        })
        {
            using var response = await client.PostRawAsync("/v1/daemons",
                $$$"""{"name": "bad", "workload": {{{workload}}}, "trigger": {"type": "webhook", "signature": "none"}}""");
            await response.ShouldBeProblemAsync(400, code, "workload.secrets");
        }
        (await client.GetStringAsync("/v1/daemons")).ShouldBe("""{"items":[]}""");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_workspace_keeps_at_most_500_secrets_and_may_still_replace_them(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        for (var i = 0; i < 500; i++)
        {
            await client.SetSecretAsync($"S{i}", "v");
        }

        using var over = await client.PutAsync("/v1/secrets/ONE_MORE", new StringContent("""{"value": "v"}""", Encoding.UTF8, "application/json"));
        var problem = await over.ShouldBeProblemAsync(409, "secret_limit_reached");
        problem.Detail!.ShouldContain("500");

        (await client.SetSecretAsync("S0", "replaced")).Name.ShouldBe("S0");
        var names = (await client.ListSecretsAsync()).Items.Select(s => s.Name).ToList();
        names.Count.ShouldBe(500);
        names.ShouldNotContain("ONE_MORE");
        await client.DeleteSecretAsync("S1");
        await client.SetSecretAsync("ONE_MORE", "v");
    }
}
