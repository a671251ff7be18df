using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

/// <summary>A registry behind HTTP Basic that sends its blobs to another host, as registries on object storage do.</summary>
public sealed class OciRedirectTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("kennel-oci-redirect-").FullName;
    private readonly List<string> log = [];
    private readonly OciCredentials login = new(RedirectingRegistry.User, RedirectingRegistry.Password);

    private string Root => Path.Join(work, "root");

    [Fact]
    public async Task Blobs_follow_the_redirect_without_the_login()
    {
        var image = TestImage.Of([new TestLayer().File("from-cdn", "yes")]);
        await using var registry = new RedirectingRegistry(image);

        var pulled = await new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/app:1", login, Root, log.Add, CancellationToken.None);

        pulled.Digest.ShouldBe(image.Manifest.Digest);
        File.ReadAllText(Path.Join(Root, "from-cdn")).ShouldBe("yes");
        registry.CdnAuthorizations.Count.ShouldBe(2, "the config and the layer");
        registry.CdnAuthorizations.ShouldAllBe(header => header == "", "credentials never go to another host");
    }

    [Fact]
    public async Task A_redirect_to_plain_http_off_loopback_is_refused()
    {
        await using var registry = new RedirectingRegistry(TestImage.Of([new TestLayer().File("a", "a")])) { Redirect = "http://cdn.example/blob" };

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/app:1", login, Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.Forbidden);
        refused.Message.ShouldContain("neither https nor plain http to loopback");
    }

    [Fact]
    public async Task A_basic_challenge_without_a_login_says_one_is_needed()
    {
        await using var registry = new RedirectingRegistry(TestImage.Of([new TestLayer().File("a", "a")]));

        var refused = await Should.ThrowAsync<OciException>(() =>
            new OciImageSource(DockerRegistry.Options).PullAsync($"{registry.Host}/team/app:1", Root, log.Add, CancellationToken.None));

        refused.Code.ShouldBe(OciErrors.Unauthorized);
        refused.Message.ShouldContain("needs a login");
    }

    public void Dispose() => Directory.Delete(work, recursive: true);
}
