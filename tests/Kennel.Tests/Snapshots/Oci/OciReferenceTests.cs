using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

public sealed class OciReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("python:3.12-slim", "docker.io", "library/python", "3.12-slim", null)]
    [InlineData("python", "docker.io", "library/python", "latest", null)]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7", null)]
    [InlineData("index.docker.io/library/debian:bookworm", "docker.io", "library/debian", "bookworm", null)]
    [InlineData("127.0.0.1:5000/team/python:3.12", "127.0.0.1:5000", "team/python", "3.12", null)]
    [InlineData("localhost/app", "localhost", "app", "latest", null)]
    [InlineData("ghcr.io/org/sub/image@" + Digest, "ghcr.io", "org/sub/image", null, Digest)]
    [InlineData("[::1]:5000/app:v1@" + Digest, "[::1]:5000", "app", "v1", Digest)]
    public void Parses_the_forms_docker_accepts(string text, string registry, string repository, string? tag, string? digest)
    {
        var reference = OciReference.Parse(text);

        reference.Registry.ShouldBe(registry);
        reference.Repository.ShouldBe(repository);
        reference.Tag.ShouldBe(tag);
        reference.Digest.ShouldBe(digest);
        reference.ManifestReference.ShouldBe(digest ?? tag);
    }

    [Fact]
    public void Docker_Hub_is_reached_at_its_api_host() =>
        OciReference.Parse("python:3.12").ApiHost.ShouldBe("registry-1.docker.io");

    [Theory]
    [InlineData("", "1-512 characters")]
    [InlineData("Python:3", "repository")]
    [InlineData("python:", "a tag is")]
    [InlineData("python:-bad", "a tag is")]
    [InlineData("python@sha256:abc", "the digest")]
    [InlineData("python@md5:0123456789abcdef0123456789abcdef", "the digest")]
    [InlineData("team//python", "repository")]
    [InlineData("bad_host.io:x/app", "registry host")]
    [InlineData(" python", "1-512 characters")]
    public void Refuses_what_is_not_a_reference_and_says_which_part(string text, string why)
    {
        var refused = Should.Throw<OciException>(() => OciReference.Parse(text));

        refused.Code.ShouldBe(OciErrors.InvalidReference);
        refused.Message.ShouldContain(why);
    }
}
