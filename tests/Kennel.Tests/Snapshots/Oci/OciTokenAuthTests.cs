using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>Pulls from a registry that wants a Bearer token: anonymous callers are refused, a login from a secret gets the image.</summary>
public sealed class OciTokenAuthTests(TokenRegistry registry) : IClassFixture<TokenRegistry>, IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("kennel-oci-token-").FullName;
    private readonly List<string> log = [];

    private string Root => Path.Join(work, "root");

    [Fact]
    public async Task A_login_answers_the_token_challenge_and_the_image_is_pulled()
    {
        var image = TestImage.Of([new TestLayer().File("private", "team only")]);
        await registry.PushAsync("team/private", "1", image);

        var pulled = await new OciImageSource(DockerRegistry.Options)
            .PullAsync($"{registry.Host}/team/private:1", new OciCredentials(TokenRegistry.User, TokenRegistry.Password), Root, log.Add, CancellationToken.None);

        pulled.Digest.ShouldBe(image.Manifest.Digest);
        File.ReadAllText(Path.Join(Root, "private")).ShouldBe("team only");
        log.ShouldNotContain(line => line.Contains(TokenRegistry.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_anonymous_pull_gets_a_token_without_access_and_is_told_a_login_may_be_needed()
    {
        await registry.PushAsync("team/anonymous", "1", TestImage.Of([new TestLayer().File("private", "team only")]));
        var before = registry.AnonymousTokens;

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/anonymous:1", Root, log.Add, CancellationToken.None));

        registry.AnonymousTokens.ShouldBe(before + 1);
        refused.Code.ShouldBe(OciErrors.Unauthorized);
        refused.Message.ShouldContain("may need a login");
        Directory.Exists(Root).ShouldBeFalse();
    }

    [Fact]
    public async Task A_wrong_password_is_refused_without_showing_it()
    {
        await registry.PushAsync("team/wrong", "1", TestImage.Of([new TestLayer().File("private", "team only")]));

        var refused = await Should.ThrowAsync<OciException>(() => new OciImageSource(DockerRegistry.Options)
            .PullAsync($"{registry.Host}/team/wrong:1", new OciCredentials(TokenRegistry.User, "not the password"), Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.Unauthorized);
        refused.Message.ShouldContain("the login was refused");
        refused.Message.ShouldNotContain("not the password");
        new OciCredentials(TokenRegistry.User, "not the password").ToString().ShouldNotContain("not the password");
    }

    public void Dispose() => Directory.Delete(work, recursive: true);
}
