using Kennel.ControlPlane.Snapshots.Oci;

namespace Kennel.Tests.Snapshots.Oci;

public sealed class RegistryChallengeTests
{
    [Fact]
    public void Reads_docker_hubs_bearer_challenge()
    {
        var challenge = RegistryChallenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/python:pull\"")!;

        challenge.Scheme.ShouldBe("Bearer");
        challenge["realm"].ShouldBe("https://auth.docker.io/token");
        challenge["service"].ShouldBe("registry.docker.io");
        challenge["scope"].ShouldBe("repository:library/python:pull");
    }

    [Fact]
    public void Keeps_commas_and_escapes_inside_quotes_and_reads_bare_values()
    {
        var challenge = RegistryChallenge.Parse("Bearer realm=\"https://a.example/t\", scope=\"repository:x:pull,push\", error=insufficient_scope, note=\"say \\\"hi\\\"\"")!;

        challenge["scope"].ShouldBe("repository:x:pull,push");
        challenge["ERROR"].ShouldBe("insufficient_scope", "parameter names are case-insensitive");
        challenge["note"].ShouldBe("say \"hi\"");
    }

    [Fact]
    public void Reads_a_basic_challenge() => RegistryChallenge.Parse("Basic realm=\"registry\"")!.Scheme.ShouldBe("Basic");

    [Theory]
    [InlineData("")]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer realm")]
    public void Refuses_a_malformed_header(string header) => RegistryChallenge.Parse(header).ShouldBeNull();
}
