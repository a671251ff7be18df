using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Requests;

/// <summary>
/// Text that no store can keep as given (lone UTF-16 surrogates, NUL, control characters): refused naming the field, the
/// same way on both stores. Never an internal error.
/// </summary>
public sealed class HostileTextTests(ServersForBadInput servers) : IClassFixture<ServersForBadInput>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Lone_surrogates_in_a_session_request_are_refused_naming_the_field(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        foreach (var (body, field) in new[]
        {
            ("""{"script": "echo \ud800"}""", "script"),
            ("""{"command": ["echo", "\udfff"]}""", "command[1]"),
            ("""{"script": "true", "env": {"A": "\ud800"}}""", "env.A"),
            ("""{"script": "true", "metadata": {"k": "\udc00x"}}""", "metadata.k"),
        })
        {
            using var response = await client.PostRawAsync("/v1/sessions", body);
            await response.ShouldBeProblemAsync(400, "invalid_json", field);
        }

        (await client.ListSessionsAsync()).Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Metadata_with_a_nul_character_is_refused_on_both_stores(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        using var response = await client.PostRawAsync("/v1/sessions", """{"script": "true", "metadata": {"k": "a\u0000b"}}""");

        await response.ShouldBeProblemAsync(400, "invalid_request", "metadata.k");
        (await client.ListSessionsAsync()).Items.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Key_names_with_control_characters_or_lone_surrogates_are_refused(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();
        var before = await admin.GetStringAsync("/v1/apikeys");

        foreach (var (body, code) in new[]
        {
            ("""{"name": "a\u0000b"}""", "invalid_request"),
            ("""{"name": "line\nbreak"}""", "invalid_request"),
            ("""{"name": "bell\u0007"}""", "invalid_request"),
            ("""{"name": "a\ud800b"}""", "invalid_json"),
        })
        {
            using var response = await admin.PostRawAsync("/v1/apikeys", body);
            await response.ShouldBeProblemAsync(400, code, "name");
        }

        (await admin.GetStringAsync("/v1/apikeys")).ShouldBe(before);
        (await admin.CreateApiKeyAsync(null, Scopes.Read)).ApiKey.Name.ShouldBe("test");
    }
}
