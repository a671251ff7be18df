using Kennel.ControlPlane.Hosting;

namespace Kennel.Tests.Units;

/// <summary>The OAuth issuer and the <c>KENNEL_OAUTH_*</c> variables.</summary>
public sealed class OAuthSettingsTests
{
    [Theory]
    [InlineData("https://kennel.example.com", "https://kennel.example.com")]
    [InlineData("https://kennel.example.com/", "https://kennel.example.com")]
    [InlineData("https://kennel.example.com:8443", "https://kennel.example.com:8443")]
    [InlineData("http://127.0.0.1:4000", "http://127.0.0.1:4000")]
    [InlineData("http://localhost:4000", "http://localhost:4000")]
    public void The_issuer_is_an_https_origin_or_loopback_http(string value, string issuer) =>
        Read(("KENNEL_EXTERNAL_URL", value)).ExternalUrl.ShouldBe(issuer);

    [Theory]
    [InlineData("http://kennel.example.com", "https")]
    [InlineData("https://kennel.example.com/kennel", "origin")]
    [InlineData("https://kennel.example.com/?x=1", "origin")]
    [InlineData("ftp://kennel.example.com", "origin")]
    [InlineData("kennel.example.com", "origin")]
    public void Anything_else_stops_the_start_naming_the_variable(string value, string mentions)
    {
        var refused = Should.Throw<SettingsException>(() => Read(("KENNEL_EXTERNAL_URL", value)));
        refused.Message.ShouldContain("KENNEL_EXTERNAL_URL");
        refused.Message.ShouldContain(mentions);
    }

    [Fact]
    public void The_oauth_limits_and_the_metadata_document_guard_are_read()
    {
        var defaults = Read();
        defaults.OAuth.RegistrationsPerMinute.ShouldBe(20);
        defaults.OAuth.LoginsPerMinute.ShouldBe(30);
        defaults.OAuth.CimdAllowPrivateAddresses.ShouldBeFalse();

        var set = Read(("KENNEL_OAUTH_REGISTRATION_RATE_LIMIT", "5"), ("KENNEL_OAUTH_LOGIN_RATE_LIMIT", "0"), ("KENNEL_OAUTH_CIMD_ALLOW_PRIVATE", "true"));
        set.OAuth.RegistrationsPerMinute.ShouldBe(5);
        set.OAuth.LoginsPerMinute.ShouldBe(0);
        set.OAuth.CimdAllowPrivateAddresses.ShouldBeTrue();
        Should.Throw<SettingsException>(() => Read(("KENNEL_OAUTH_CIMD_ALLOW_PRIVATE", "maybe"))).Message.ShouldContain("KENNEL_OAUTH_CIMD_ALLOW_PRIVATE");
    }

    private static KennelSettings Read(params (string Name, string Value)[] env) =>
        KennelSettings.FromEnvironment(name => env.FirstOrDefault(e => e.Name == name).Value);
}
