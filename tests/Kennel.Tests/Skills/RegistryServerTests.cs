using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Skills.Registry;
using Kennel.ControlPlane.Workspaces;
using Kennel.Testing;
using Kennel.Tests.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.Tests.Skills;

/// <summary>Registries as a running control plane has them: written into a workspace's config over REST, fetched by its client.</summary>
public sealed class RegistryServerTests : IDisposable
{
    private readonly RegistryFixture fixture = new();

    [Fact]
    public async Task Registries_set_in_the_config_are_fetched_under_the_installations_outbound_and_local_folder_settings()
    {
        await using var host = await fixture.ServeGreeterAsync();
        await using var server = await TestServer.StartAsync(TestStore.Sqlite, settings => settings with
        {
            Outbound = OutboundAddresses.Parse("127.0.0.1/32", out _)!,
            SkillRegistries = new SkillRegistryOptions { Roots = [fixture.Directory.FullName] },
        });
        using var admin = server.Client();
        await admin.SetConfigOkAsync("skills.registries.team", $$"""{"url": "{{host.Url}}", "trust": "trusted"}""");
        await admin.SetConfigOkAsync("skills.registries.local", $$"""{"url": "{{new Uri(fixture.Published + "/")}}"}""");
        using var refused = await admin.SetConfigAsync("skills.registries.ftp", """{"url": "ftp://files.example.com/"}""");
        ((int)refused.StatusCode).ShouldBe(400);

        var services = server.Server.Services;
        var workspace = await services.GetRequiredService<WorkspaceStore>().FindByNameAsync(WorkspaceStore.DefaultName, CancellationToken.None);
        var document = await services.GetRequiredService<ConfigService>().DocumentAsync(workspace!.Id, CancellationToken.None);
        var registries = SkillRegistrySettings.From(document);
        var client = services.GetRequiredService<SkillRegistryClient>();

        registries.Select(r => (r.Name, r.Trust)).ShouldBe([("local", SkillTrust.Untrusted), ("team", SkillTrust.Trusted)]);
        foreach (var registry in registries)
        {
            (await client.IndexAsync(registry, CancellationToken.None)).Find("greeter")!.Newest!.Version.ShouldBe("1.0.0");
            client.Status(registry).Answered.ShouldBe(true);
        }
    }

    public void Dispose() => fixture.Dispose();
}
