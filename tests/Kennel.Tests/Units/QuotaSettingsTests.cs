using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Tests.Units;

public sealed class QuotaSettingsTests
{
    [Fact]
    public void By_default_only_the_queue_is_limited_and_the_environment_sets_every_limit()
    {
        KennelSettings.FromEnvironment(_ => null).Quotas.Defaults.ShouldBe(new WorkspaceLimits(null, null, 1000));

        var set = new Dictionary<string, string>
        {
            ["KENNEL_WORKSPACE_MAX_RUNNING_SESSIONS"] = "8",
            ["KENNEL_WORKSPACE_MAX_VCPUS"] = "16",
            ["KENNEL_WORKSPACE_MAX_QUEUED_SESSIONS"] = "0",
        };
        KennelSettings.FromEnvironment(set.GetValueOrDefault).Quotas.Defaults.ShouldBe(new WorkspaceLimits(8, 16, null));
    }

    [Theory]
    [InlineData("KENNEL_WORKSPACE_MAX_RUNNING_SESSIONS", "-1")]
    [InlineData("KENNEL_WORKSPACE_MAX_VCPUS", "many")]
    [InlineData("KENNEL_WORKSPACE_MAX_QUEUED_SESSIONS", "1e3")]
    public void A_bad_limit_stops_the_start_naming_the_variable(string variable, string value) =>
        Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(name => name == variable ? value : null)).Message.ShouldContain(variable);
}
