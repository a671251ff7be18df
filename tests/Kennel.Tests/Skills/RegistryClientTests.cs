using System.Security.Cryptography;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Skills.Registry;
using Kennel.Testing;

namespace Kennel.Tests.Skills;

/// <summary>A registry built from real skill folders and served over real HTTP on loopback, read by the client installs use.</summary>
public sealed class RegistryClientTests : IDisposable
{
    private readonly RegistryFixture fixture = new();

    [Fact]
    public async Task An_index_built_from_skill_folders_is_fetched_parsed_and_its_archives_download_and_inspect_clean()
    {
        fixture.WriteSkill("greeter", "1.0.0");
        fixture.Publish();
        fixture.WriteSkill("greeter", "1.1.0-beta.1", "Greets people, louder.");
        fixture.Publish();
        fixture.WriteSkill("greeter", "1.0.1", "Greets people, politely.");
        fixture.WriteSkill("weather", "0.3.0", "Reports the weather.");
        fixture.Publish();
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        using var client = RegistryFixture.Client();
        var registry = RegistryFixture.Registry(host.Url);

        var index = await client.IndexAsync(registry, CancellationToken.None);

        index.Skills.Select(s => s.Name).ShouldBe(["greeter", "weather"]);
        var greeter = index.Find("greeter")!;
        greeter.Versions.Select(v => v.Version).ShouldBe(["1.1.0-beta.1", "1.0.1", "1.0.0"], ignoreOrder: true);
        greeter.Newest!.Version.ShouldBe("1.0.1");
        greeter.Summary.ShouldBe("Greets people, politely.");
        greeter.Publisher.ShouldBe("Example Team");
        var newest = greeter.Newest;
        newest.Archive.ShouldBe(new Uri(host.Url, "archives/greeter-1.0.1.tar.gz"));
        newest.Requires.Programs.ShouldBe(["sh"]);
        newest.Published.ShouldBe(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        greeter.Find("1.0.0")!.Summary.ShouldBe("Greets people.");

        var archive = await client.DownloadAsync(registry, newest, SkillLimits.Default.MaxCompressedBytes, CancellationToken.None);

        Convert.ToHexStringLower(SHA256.HashData(archive)).ShouldBe(newest.Sha256);
        var inspection = SkillInspector.Inspect(new MemoryStream(archive), newest.Sha256, SkillLimits.Default);
        inspection.Verdict.ShouldBe(SkillVerdict.Clean);
        inspection.Manifest!.Version.ShouldBe("1.0.1");
        var status = client.Status(registry);
        status.ShouldBe(new RegistryStatus("team", host.Url.AbsoluteUri, SkillTrust.Untrusted, true, status.LastFetchAt, null, 2));
        status.LastFetchAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task The_index_is_cached_per_URL_until_it_expires_and_Status_tells_the_last_real_fetch()
    {
        await using var host = await fixture.ServeGreeterAsync();
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        using var client = RegistryFixture.Client(time: clock);
        var registry = RegistryFixture.Registry(host.Url);
        client.Status(registry).Answered.ShouldBeNull();

        await client.IndexAsync(registry, CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(4));
        await client.IndexAsync(registry, CancellationToken.None);

        host.Count("/index.json").ShouldBe(1);
        client.Status(registry).LastFetchAt.ShouldBe(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

        clock.Advance(TimeSpan.FromMinutes(2));
        await client.IndexAsync(registry, CancellationToken.None);

        host.Count("/index.json").ShouldBe(2);
        client.Status(registry).LastFetchAt.ShouldBe(new DateTimeOffset(2026, 12, 7, 12, 6, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task A_registry_that_stalls_times_out_and_its_status_says_it_did_not_answer()
    {
        await using var host = await fixture.ServeGreeterAsync();
        host.Stalls["/index.json"] = true;
        using var client = RegistryFixture.Client(new SkillRegistryOptions { Timeout = TimeSpan.FromSeconds(1) });
        var registry = RegistryFixture.Registry(host.Url);

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(registry, CancellationToken.None));

        failure.Code.ShouldBe("registry_timeout");
        failure.Message.ShouldContain("did not arrive within 1 seconds");
        var status = client.Status(registry);
        status.Answered.ShouldBe(false);
        status.Error.ShouldBe(failure.Message);
        status.SkillCount.ShouldBeNull();
    }

    [Fact]
    public async Task A_failure_is_remembered_briefly_so_browsing_does_not_wait_on_a_dead_registry_each_time()
    {
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        using var client = RegistryFixture.Client(time: clock);
        var registry = RegistryFixture.Registry(host.Url);

        var first = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(registry, CancellationToken.None));
        var second = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(registry, CancellationToken.None));

        first.Code.ShouldBe("registry_unreachable");
        first.Message.ShouldContain("answered HTTP 404");
        second.Message.ShouldBe(first.Message);
        host.Count("/index.json").ShouldBe(1);
        fixture.WriteSkill("greeter", "1.0.0");
        fixture.Publish();
        clock.Advance(TimeSpan.FromSeconds(31));

        (await client.IndexAsync(registry, CancellationToken.None)).Skills.Count.ShouldBe(1);
        client.Status(registry).Answered.ShouldBe(true);
    }

    [Fact]
    public async Task An_index_over_the_cap_is_refused_while_it_streams_whatever_its_length()
    {
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        host.Floods["/index.json"] = 64L * 1024 * 1024;
        using var client = RegistryFixture.Client(new SkillRegistryOptions { MaxIndexBytes = 256 * 1024 });

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(host.Url), CancellationToken.None));

        failure.Code.ShouldBe("registry_too_large");
        failure.Message.ShouldContain("larger than 262144 bytes");
    }

    [Fact]
    public async Task An_archive_over_the_limit_or_over_its_declared_size_is_refused()
    {
        await using var host = await fixture.ServeGreeterAsync();
        using var client = RegistryFixture.Client();
        var registry = RegistryFixture.Registry(host.Url);
        var version = (await client.IndexAsync(registry, CancellationToken.None)).Find("greeter")!.Newest!;

        var overLimit = await Should.ThrowAsync<SkillRegistryException>(() => client.DownloadAsync(registry, version, version.Size - 1, CancellationToken.None));

        overLimit.Code.ShouldBe("archive_too_large");
        host.Count("/archives/greeter-1.0.0.tar.gz").ShouldBe(0);

        // The server swaps in a bigger archive than the index declares: the download stops at the declared size.
        host.Floods["/archives/greeter-1.0.0.tar.gz"] = 10L * 1024 * 1024;
        var overDeclared = await Should.ThrowAsync<SkillRegistryException>(() => client.DownloadAsync(registry, version, SkillLimits.Default.MaxCompressedBytes, CancellationToken.None));

        overDeclared.Code.ShouldBe("archive_too_large");
        overDeclared.Message.ShouldContain($"larger than {version.Size} bytes");
    }

    [Fact]
    public async Task A_missing_archive_is_archive_unreachable()
    {
        await using var host = await fixture.ServeGreeterAsync();
        using var client = RegistryFixture.Client();
        var registry = RegistryFixture.Registry(host.Url);
        var version = (await client.IndexAsync(registry, CancellationToken.None)).Find("greeter")!.Newest!;
        File.Delete(Path.Combine(fixture.Published, "archives", "greeter-1.0.0.tar.gz"));

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.DownloadAsync(registry, version, 1024 * 1024, CancellationToken.None));

        failure.Code.ShouldBe("archive_unreachable");
        failure.Message.ShouldContain("answered HTTP 404");
    }

    [Fact]
    public async Task An_invalid_index_is_refused_naming_the_entry_at_fault()
    {
        Directory.CreateDirectory(fixture.Published);
        await File.WriteAllTextAsync(Path.Combine(fixture.Published, "index.json"), """
            {"kennelSkillRegistry": 1, "skills": [{"name": "greeter", "summary": "Greets.", "versions": [
              {"version": "1.0.0", "archive": "a.tar.gz", "sha256": "ABC", "size": 10}]}]}
            """);
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        using var client = RegistryFixture.Client();
        var registry = RegistryFixture.Registry(host.Url);

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(registry, CancellationToken.None));

        failure.Code.ShouldBe("registry_invalid");
        failure.Message.ShouldBe("skills[0] ('greeter').versions[0] (1.0.0).sha256: the SHA-256 is 64 lower-case hex digits");
        client.Status(registry).Error.ShouldBe(failure.Message);
    }

    [Theory]
    [InlineData("http://registry.example.com/skills/", "http:// is only for loopback hosts")]
    [InlineData("ftp://127.0.0.1/skills/", "a registry URL is https://, http:// to a loopback host, or file:///")]
    [InlineData("https://user:pass@registry.example.com/", "carries no user name or password")]
    [InlineData("file:///etc/", "local folder registries are off")]
    public async Task A_URL_Kennel_may_not_read_is_refused_before_any_request(string url, string reason)
    {
        using var client = RegistryFixture.Client();

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(new Uri(url)), CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
        failure.Message.ShouldContain(reason);
        failure.Message.ShouldNotContain("user:pass");
    }

    [Fact]
    public async Task Loopback_is_refused_unless_the_installation_allows_it()
    {
        await using var host = await fixture.ServeGreeterAsync();
        using var client = RegistryFixture.Client(addresses: OutboundAddresses.PublicOnly);

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(host.Url), CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
        failure.Message.ShouldContain("127.0.0.1 is a loopback address; an admin can allow it with KENNEL_OUTBOUND_ALLOW_CIDRS");
        host.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task Redirects_are_followed_only_to_URLs_and_addresses_Kennel_may_fetch()
    {
        await using var host = await fixture.ServeGreeterAsync();
        using var client = RegistryFixture.Client();
        host.Redirects["/moved/index.json"] = "/index.json";
        host.Redirects["/private/index.json"] = $"http://127.0.0.2:{host.Port}/index.json";
        host.Redirects["/away/index.json"] = "http://registry.example.com/index.json";

        var moved = await client.IndexAsync(RegistryFixture.Registry(new Uri(host.Url, "moved/")), CancellationToken.None);
        var toPrivate = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(new Uri(host.Url, "private/")), CancellationToken.None));
        var away = await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(RegistryFixture.Registry(new Uri(host.Url, "away/")), CancellationToken.None));

        moved.Skills.Single().Name.ShouldBe("greeter");
        toPrivate.Code.ShouldBe("registry_forbidden");
        toPrivate.Message.ShouldContain("127.0.0.2 is a loopback address");
        away.Code.ShouldBe("registry_forbidden");
        away.Message.ShouldContain("redirects to a URL Kennel may not fetch");
        host.Count("/index.json").ShouldBe(1);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "a registry served over the network cannot name a file:/// archive")]
    [InlineData("http://registry.example.com/greeter.tar.gz", "http:// is only for loopback hosts")]
    public async Task A_remote_index_cannot_name_an_archive_Kennel_may_not_fetch(string archive, string reason)
    {
        Directory.CreateDirectory(fixture.Published);
        var sha = new string('a', 64);
        await File.WriteAllTextAsync(Path.Combine(fixture.Published, "index.json"), $$"""
            {"kennelSkillRegistry": 1, "skills": [{"name": "greeter", "summary": "Greets.", "versions": [
              {"version": "1.0.0", "archive": "{{archive}}", "sha256": "{{sha}}", "size": 10}]}]}
            """);
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        using var client = RegistryFixture.Client(new SkillRegistryOptions { Roots = ["/"] });
        var registry = RegistryFixture.Registry(new Uri(host.Url, "index.json"));
        var version = (await client.IndexAsync(registry, CancellationToken.None)).Skills.Single().Newest!;

        var failure = await Should.ThrowAsync<SkillRegistryException>(() => client.DownloadAsync(registry, version, 1024, CancellationToken.None));

        failure.Code.ShouldBe("registry_forbidden");
        failure.Message.ShouldContain(reason);
    }

    [Fact]
    public async Task Status_shows_the_URL_without_its_query_or_credentials()
    {
        await using var host = await RegistryHost.StartAsync(fixture.Published);
        using var client = RegistryFixture.Client();
        var registry = RegistryFixture.Registry(new Uri(host.Url, "skills/?token=s3cret"), SkillTrust.Trusted);

        await Should.ThrowAsync<SkillRegistryException>(() => client.IndexAsync(registry, CancellationToken.None));

        var status = client.Status(registry);
        status.Url.ShouldBe(new Uri(host.Url, "skills/").AbsoluteUri);
        status.Trust.ShouldBe(SkillTrust.Trusted);
        status.Error.ShouldNotBeNull();
        status.Error.ShouldNotContain("s3cret");
        host.Count("/skills/index.json").ShouldBe(1);
    }

    public void Dispose() => fixture.Dispose();
}
