using Kennel.ControlPlane.Delivery;

namespace Kennel.Tests.Units;

public sealed class DeliveryRetriesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryAttempt ServerError = new(false, true, "HTTP 500", 500, null);

    [Fact]
    public void The_waits_grow_threefold_and_add_up_to_about_an_hour()
    {
        Enumerable.Range(1, DeliveryRetries.MaxAttempts - 1).Select(attempt => DeliveryRetries.Backoff(attempt, 0.5).TotalSeconds)
            .ShouldBe([30, 90, 270, 810, 2430]);
        var total = TimeSpan.FromTicks(Enumerable.Range(1, DeliveryRetries.MaxAttempts - 1).Sum(attempt => DeliveryRetries.Backoff(attempt, 0.5).Ticks));
        total.ShouldBe(TimeSpan.FromSeconds(3630));
    }

    [Fact]
    public void Jitter_spreads_a_wait_by_a_fifth_either_way()
    {
        DeliveryRetries.Backoff(1, 0).ShouldBe(TimeSpan.FromSeconds(24));
        DeliveryRetries.Backoff(1, 1).ShouldBe(TimeSpan.FromSeconds(36));
        DeliveryRetries.Backoff(1, 7).ShouldBe(TimeSpan.FromSeconds(36));
    }

    [Fact]
    public void A_retryable_failure_is_retried_until_the_last_attempt()
    {
        DeliveryRetries.NextAttempt(1, ServerError, Now, 0.5).ShouldBe(Now.AddSeconds(30));
        DeliveryRetries.NextAttempt(DeliveryRetries.MaxAttempts - 1, ServerError, Now, 0.5).ShouldBe(Now.AddSeconds(2430));
        DeliveryRetries.NextAttempt(DeliveryRetries.MaxAttempts, ServerError, Now, 0.5).ShouldBeNull();
    }

    [Fact]
    public void Delivered_and_refused_are_final()
    {
        DeliveryRetries.NextAttempt(1, new DeliveryAttempt(true, false, null, 204, null), Now, 0.5).ShouldBeNull();
        DeliveryRetries.NextAttempt(1, new DeliveryAttempt(false, false, "HTTP 410", 410, null), Now, 0.5).ShouldBeNull();
    }

    [Fact]
    public void Retry_after_is_honoured_up_to_its_cap()
    {
        DeliveryRetries.NextAttempt(1, ServerError with { RetryAfter = TimeSpan.FromSeconds(5) }, Now, 0.5).ShouldBe(Now.AddSeconds(5));
        DeliveryRetries.NextAttempt(1, ServerError with { RetryAfter = TimeSpan.FromDays(1) }, Now, 0.5).ShouldBe(Now + DeliveryRetries.MaxRetryAfter);
    }

    [Fact]
    public void Secrets_are_new_each_time_and_in_the_standard_format()
    {
        var secret = WebhookSecret.New();

        secret.ShouldStartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Length.ShouldBe(32);
        WebhookSecret.Validate(secret).ShouldBeNull();
        WebhookSecret.New().ShouldNotBe(secret);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("whsec_QUFB")]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_c2hvcnQ=")]
    public void A_secret_that_is_not_whsec_and_enough_bytes_is_refused_without_echoing_it(string? secret)
    {
        var error = WebhookSecret.Validate(secret);

        error.ShouldNotBeNull();
        if (!string.IsNullOrEmpty(secret))
        {
            error.ShouldNotContain(secret);
        }
    }

    [Theory]
    [InlineData("https://hooks.example.com/kennel?team=1", true)]
    [InlineData("http://10.0.0.5:8080/hook", true)]
    [InlineData("", false)]
    [InlineData("hooks.example.com/kennel", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("https://hooks.example.com/#frag", false)]
    [InlineData("https://u:p@hooks.example.com/", false)]
    public void Urls_are_absolute_http_without_credentials(string url, bool valid) =>
        (OutboundUrl.Validate(url) is null).ShouldBe(valid);

    [Fact]
    public void A_url_past_the_length_cap_is_refused() =>
        OutboundUrl.Validate("https://hooks.example.com/" + new string('a', OutboundUrl.MaxLength)).ShouldNotBeNull();
}
