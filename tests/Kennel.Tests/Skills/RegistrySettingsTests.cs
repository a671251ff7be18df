using System.Text.Json.Nodes;
using Kennel.ControlPlane.Config;
using Kennel.ControlPlane.Hosting;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.Tests.Skills;

/// <summary>Registries in the workspace config (<c>skills.registries</c>) and the installation's settings for them.</summary>
public sealed class RegistrySettingsTests
{
    [Fact]
    public void Registries_are_read_from_the_config_by_name_untrusted_unless_said_otherwise()
    {
        var document = Document("""
            {"skills": {"registries": {
              "team": {"url": "https://skills.example.com/team/", "trust": "trusted"},
              "community": {"url": "https://community.example.org/"},
              "local": {"url": "file:///srv/skills/", "trust": "untrusted"}}}}
            """);

        ConfigSchema.Violation(document).ShouldBeNull();
        SkillRegistrySettings.From(document).ShouldBe([
            new SkillRegistryConfig("community", new Uri("https://community.example.org/"), SkillTrust.Untrusted),
            new SkillRegistryConfig("local", new Uri("file:///srv/skills/"), SkillTrust.Untrusted),
            new SkillRegistryConfig("team", new Uri("https://skills.example.com/team/"), SkillTrust.Trusted),
        ]);
        SkillRegistrySettings.From(new JsonObject()).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"Team": {"url": "https://a.example.com/"}}""", "skills.registries.Team")]
    [InlineData("""{"team": {"url": "https://user:pw@a.example.com/"}}""", "skills.registries.team.url")]
    [InlineData("""{"team": {"url": "ftp://a.example.com/"}}""", "skills.registries.team.url")]
    [InlineData("""{"team": {"url": "https://a.example.com/#top"}}""", "skills.registries.team.url")]
    [InlineData("""{"team": {"url": "https://a.example.com/", "trust": "full"}}""", "skills.registries.team.trust")]
    [InlineData("""{"team": {"url": "https://a.example.com/", "token": "x"}}""", "skills.registries.team.token")]
    [InlineData("""{"team": {"trust": "trusted"}}""", "skills.registries.team")]
    public void The_schema_refuses_a_bad_registry(string registries, string path)
    {
        var violation = ConfigSchema.Violation(Document($$$"""{"skills": {"registries": {{{registries}}}}}"""));

        violation.ShouldNotBeNull();
        violation.Value.Path.ShouldBe(path);
    }

    [Fact]
    public void The_schema_bounds_registries_and_the_skills_section()
    {
        var many = new JsonObject();
        for (var i = 0; i < 21; i++)
        {
            many[$"r{i}"] = new JsonObject { ["url"] = "https://a.example.com/" };
        }
        var longUrl = "https://a.example.com/" + new string('a', 2048);

        ConfigSchema.Violation(new JsonObject { ["skills"] = new JsonObject { ["registries"] = many } }).ShouldNotBeNull();
        ConfigSchema.Violation(Document("""{"skills": {"registries": {"team": {"url": "URL"}}}}""".Replace("URL", longUrl, StringComparison.Ordinal))).ShouldNotBeNull();
        ConfigSchema.Violation(Document("""{"skills": {"mirrors": {}}}""")).ShouldNotBeNull();
    }

    [Fact]
    public void The_installation_sets_the_local_roots_and_the_timeout()
    {
        var options = SkillRegistryOptions.FromEnvironment(name => name switch
        {
            "KENNEL_SKILL_REGISTRY_ROOTS" => "/srv/skills:/opt/registry",
            "KENNEL_SKILL_REGISTRY_TIMEOUT_SECONDS" => "20",
            _ => null,
        });

        options.Roots.ShouldBe(["/srv/skills", "/opt/registry"]);
        KennelSettings.FromEnvironment(name => name == "KENNEL_SKILL_REGISTRY_ROOTS" ? "/srv/skills" : null).SkillRegistries.Roots.ShouldBe(["/srv/skills"]);
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(20));
        SkillRegistryOptions.FromEnvironment(_ => null).Roots.ShouldBeEmpty();
        Should.Throw<SettingsException>(() => SkillRegistryOptions.FromEnvironment(name => name == "KENNEL_SKILL_REGISTRY_ROOTS" ? "skills" : null))
            .Message.ShouldContain("'skills' is not absolute");
        Should.Throw<SettingsException>(() => SkillRegistryOptions.FromEnvironment(name => name == "KENNEL_SKILL_REGISTRY_TIMEOUT_SECONDS" ? "0" : null))
            .Message.ShouldContain("KENNEL_SKILL_REGISTRY_TIMEOUT_SECONDS");
    }

    private static JsonObject Document(string json) => JsonNode.Parse(json)!.AsObject();
}
