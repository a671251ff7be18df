using System.Text;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.Tests.Skills;

/// <summary>The index format's strict reading: each mistake is refused with the entry and the field named.</summary>
public sealed class RegistryIndexParserTests
{
    private static readonly Uri IndexUrl = new("https://skills.example.com/team/index.json");
    private static readonly string Sha = new('0', 64);

    [Theory]
    [InlineData("not json", "the index is not valid JSON")]
    [InlineData("""{"skills": []}""", "the index has no 'kennelSkillRegistry' format number")]
    [InlineData("""{"kennelSkillRegistry": 2, "skills": []}""", "the index is in format 2; this Kennel reads format 1")]
    [InlineData("""{"kennelSkillRegistry": 1, "skills": [], "mirrors": []}""", "the index: unknown property 'mirrors' (extensions start with 'x-')")]
    [InlineData("""{"kennelSkillRegistry": 1, "skills": {}}""", "the index: 'skills' must be an array")]
    [InlineData("""{"kennelSkillRegistry": 1, "skills": [{"name": "Greeter", "summary": "s", "versions": []}]}""", "skills[0].name: 'Greeter' is not a skill name")]
    [InlineData("""{"kennelSkillRegistry": 1, "skills": [{"name": "a", "versions": []}]}""", "skills[0] ('a'): 'summary' is required")]
    [InlineData("""{"kennelSkillRegistry": 1, "skills": [{"name": "a", "summary": "s", "versions": []}, {"name": "a", "summary": "s", "versions": []}]}""", "skills[1]: the skill 'a' is listed twice")]
    [InlineData("""{"kennelSkillRegistry": 1, "kennelSkillRegistry": 1, "skills": []}""", "the index is not valid JSON")]
    public void A_bad_index_is_refused_with_what_is_wrong(string json, string message)
    {
        var failure = Should.Throw<SkillRegistryException>(() => Parse(json));

        failure.Code.ShouldBe("registry_invalid");
        failure.Message.ShouldStartWith(message);
    }

    [Theory]
    [InlineData("""{"version": "1.0", "archive": "a.tar.gz", "sha256": "SHA", "size": 1}""", "versions[0].version: '1.0' is not a semantic version")]
    [InlineData("""{"version": "1.0.0", "archive": "a.tar.gz", "sha256": "SHA", "size": 0}""", "versions[0] (1.0.0).size: the archive's size in bytes is a whole number above 0")]
    [InlineData("""{"version": "1.0.0", "archive": "a.tar.gz", "sha256": "abc", "size": 1}""", "versions[0] (1.0.0).sha256: the SHA-256 is 64 lower-case hex digits")]
    [InlineData("""{"version": "1.0.0", "archive": "javascript:alert(1)", "sha256": "SHA", "size": 1}""", "versions[0] (1.0.0).archive: 'javascript:alert(1)' is not a relative URL")]
    [InlineData("""{"version": "1.0.0", "archive": "https://u:p@cdn.example.com/a.tar.gz", "sha256": "SHA", "size": 1}""", "versions[0] (1.0.0).archive: an archive URL carries no user name")]
    [InlineData("""{"version": "1.0.0", "archive": "a.tar.gz", "sha256": "SHA", "size": 1, "requires": {"programs": ["sh; rm -rf /"]}}""", "versions[0] (1.0.0).requires.programs[0]: each requirement is a plain program or variable name")]
    [InlineData("""{"version": "1.0.0", "archive": "a.tar.gz", "sha256": "SHA", "size": 1, "published": "yesterday"}""", "versions[0] (1.0.0).published: 'yesterday' is not an RFC 3339 date and time")]
    [InlineData("""{"version": "1.0.0", "archive": "a.tar.gz", "sha256": "SHA", "size": 1}, {"version": "1.0.0+build.2", "archive": "b.tar.gz", "sha256": "SHA", "size": 1}""", "versions[1]: the version 1.0.0+build.2 is listed twice")]
    public void A_bad_version_is_refused_naming_its_skill_and_version(string versions, string message)
    {
        var failure = Should.Throw<SkillRegistryException>(() => Parse(Skill(versions)));

        failure.Code.ShouldBe("registry_invalid");
        failure.Message.ShouldStartWith($"skills[0] ('greeter').{message}");
    }

    [Fact]
    public void Counts_and_lengths_are_bounded()
    {
        var many = string.Join(", ", Enumerable.Range(0, 101).Select(i => $$"""{"version": "1.0.{{i}}", "archive": "a.tar.gz", "sha256": "SHA", "size": 1}"""));
        var longSummary = new string('x', 1025);

        Should.Throw<SkillRegistryException>(() => Parse(Skill(many))).Message.ShouldBe("skills[0] ('greeter'): 'versions' holds more than 100 entries");
        Should.Throw<SkillRegistryException>(() => Parse(Skill("", longSummary))).Message.ShouldBe("skills[0] ('greeter').summary: must be 1 to 1024 characters");
    }

    [Fact]
    public void Archives_resolve_against_the_index_and_versions_order_by_semantic_version()
    {
        var index = Parse(Skill("""
            {"version": "1.10.0", "archive": "archives/g-1.10.0.tar.gz", "sha256": "SHA", "size": 5, "summary": "Newer.", "x-notes": "kept out"},
            {"version": "2.0.0-rc.1", "archive": "https://cdn.example.com/g-2.0.0-rc.1.tar.gz", "sha256": "SHA", "size": 5},
            {"version": "1.9.0", "archive": "/elsewhere/g.tar.gz", "sha256": "SHA", "size": 5, "publisher": "Someone Else", "published": "2026-11-30T08:00:00+01:00"}
            """));

        var skill = index.Skills.Single();
        skill.Newest!.Version.ShouldBe("1.10.0");
        skill.Newest.Summary.ShouldBe("Newer.");
        skill.Newest.Archive.ShouldBe(new Uri("https://skills.example.com/team/archives/g-1.10.0.tar.gz"));
        skill.Find("2.0.0-rc.1")!.Archive.ShouldBe(new Uri("https://cdn.example.com/g-2.0.0-rc.1.tar.gz"));
        var older = skill.Find("1.9.0")!;
        older.Archive.ShouldBe(new Uri("https://skills.example.com/elsewhere/g.tar.gz"));
        older.Publisher.ShouldBe("Someone Else");
        older.Summary.ShouldBe("Greets.");
        older.Published.ShouldBe(new DateTimeOffset(2026, 11, 30, 7, 0, 0, TimeSpan.Zero));
        older.Requires.ShouldBe(Kennel.ControlPlane.Skills.SkillRequirements.None);
        skill.Find("1.9").ShouldBeNull();
    }

    [Theory]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-alpha.1", "1.0.0-alpha.beta")]
    [InlineData("1.0.0-alpha.beta", "1.0.0-beta")]
    [InlineData("1.0.0-beta.2", "1.0.0-beta.11")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("2.0.0-rc.1", "1.0.0")]
    [InlineData("1.0.0", "1.0.1")]
    [InlineData("1.9.9", "1.10.0")]
    [InlineData("9.0.0", "10.0.0")]
    public void Newest_is_the_highest_release_by_semantic_version_precedence_and_a_pre_release_only_when_there_is_no_release(string lower, string higher)
    {
        var index = Parse(Skill($$"""
            {"version": "{{higher}}", "archive": "h.tar.gz", "sha256": "SHA", "size": 1},
            {"version": "{{lower}}", "archive": "l.tar.gz", "sha256": "SHA", "size": 1}
            """));

        index.Skills.Single().Newest!.Version.ShouldBe(higher);
    }

    private static RegistryIndex Parse(string json) => RegistryIndexParser.Parse(Encoding.UTF8.GetBytes(json.Replace("SHA", Sha, StringComparison.Ordinal)), IndexUrl);

    private static string Skill(string versions, string summary = "Greets.") =>
        $$"""{"kennelSkillRegistry": 1, "skills": [{"name": "greeter", "summary": "{{summary}}", "publisher": "Example Team", "versions": [{{versions}}]}]}""";
}
