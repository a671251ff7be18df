using Kennel.Agents.Providers;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Tests.Units;

public sealed class InstallationProvidersTests
{
    [Fact]
    public void The_conventional_variables_make_the_installations_providers()
    {
        var env = new Dictionary<string, string?>
        {
            ["KENNEL_DATA_DIR"] = "/tmp/k",
            ["OPENAI_BASE_URL"] = "http://127.0.0.1:11434/v1",
            ["ANTHROPIC_API_KEY"] = "sk-ant-secret",
        };

        var providers = KennelSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Providers;

        providers.Select(p => p.ToString()).ShouldBe(["openai (openai at http://127.0.0.1:11434/v1)", "anthropic (anthropic)"]);
        providers[0].ApiKey.ShouldBeNull();
        providers[1].ApiKey.ShouldBe("sk-ant-secret");
        providers[1].ToString().ShouldNotContain("sk-ant");
    }

    [Fact]
    public void None_without_the_variables_and_a_bad_base_url_stops_the_start()
    {
        KennelSettings.FromEnvironment(_ => null).Providers.ShouldBeEmpty();

        Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(name => name == "OPENAI_BASE_URL" ? "ftp://x" : null))
            .Message.ShouldContain("OPENAI_BASE_URL");
    }
}
