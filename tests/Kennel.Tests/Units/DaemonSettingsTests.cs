using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Hosting;

namespace Kennel.Tests.Units;

public sealed class DaemonSettingsTests
{
    [Fact]
    public void The_webhook_payload_limit_defaults_to_one_mebibyte_and_is_read_from_the_environment()
    {
        KennelSettings.FromEnvironment(_ => null).Daemons.WebhookMaxBytes.ShouldBe(1024 * 1024);
        KennelSettings.FromEnvironment(name => name == "KENNEL_WEBHOOK_MAX_BYTES" ? "65536" : null).Daemons.WebhookMaxBytes.ShouldBe(65536);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("lots")]
    public void A_bad_webhook_payload_limit_stops_the_start_naming_the_variable(string value) =>
        Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(name => name == "KENNEL_WEBHOOK_MAX_BYTES" ? value : null))
            .Message.ShouldContain("KENNEL_WEBHOOK_MAX_BYTES");

    [Fact]
    public void The_webhook_replay_window_defaults_to_three_days_and_is_read_from_the_environment()
    {
        KennelSettings.FromEnvironment(_ => null).Daemons.WebhookReplayWindow.ShouldBe(TimeSpan.FromHours(72));
        KennelSettings.FromEnvironment(name => name == "KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS" ? "24" : null).Daemons.WebhookReplayWindow
            .ShouldBe(TimeSpan.FromHours(24));
        KennelSettings.FromEnvironment(name => name == "KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS" ? "0" : null).Daemons.WebhookReplayWindow
            .ShouldBe(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("a day")]
    [InlineData("8761")]
    [InlineData("2147483647")]
    public void A_bad_webhook_replay_window_stops_the_start_naming_the_variable(string value) =>
        Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(name => name == "KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS" ? value : null))
            .Message.ShouldContain("KENNEL_WEBHOOK_REPLAY_WINDOW_HOURS");

    [Fact]
    public void A_signature_check_never_accepts_a_missing_secret()
    {
        var headers = new Dictionary<string, string> { ["X-Hub-Signature-256"] = WebhookSignature.Sign("hmac-sha256", "secret!!", "{}"u8) };

        WebhookSignature.Check("hmac-sha256", null, "X-Hub-Signature-256", h => headers.GetValueOrDefault(h), "{}"u8, DateTimeOffset.UtcNow)
            .ShouldNotBeNull();
    }
}
