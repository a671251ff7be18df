using System.Text.Json;
using Kennel.Contracts;
using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary>
/// <c>kennel channels …</c> as a person types it, against a real <c>kennel serve</c> whose Telegram channel talks to a
/// local Bot API (<c>KENNEL_TELEGRAM_API_URL</c>): register, list, status with a probe, send, react, history, and the
/// errors a typo or a refusal gives.
/// </summary>
public sealed class ChannelCommandTests : IAsyncLifetime
{
    private FakeTelegram telegram = null!;
    private ServeProcess serve = null!;

    public async Task InitializeAsync()
    {
        telegram = await FakeTelegram.StartAsync();
        serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string>
        {
            ["KENNEL_TELEGRAM_API_URL"] = telegram.ApiUrl.AbsoluteUri,
            ["KENNEL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32",
        });
    }

    public async Task DisposeAsync()
    {
        await serve.DisposeAsync();
        await telegram.DisposeAsync();
    }

    [Fact]
    public async Task A_Telegram_channel_is_registered_listed_probed_used_and_searched_and_mistakes_are_clear_errors()
    {
        (await serve.CliSucceedsAsync("channels", "list")).Stdout.ShouldContain("No channels yet");
        await serve.CliSucceedsAsync("config", "set", "channels.tg",
            $$"""{"kind": "telegram", "allow": ["42"], "botToken": "{{FakeTelegram.Token}}", "secretToken": "{{FakeTelegram.SecretToken}}"}""");

        var unregistered = (await serve.CliSucceedsAsync("channels", "status", "tg")).Stdout;
        unregistered.ShouldContain("tg (telegram, agent main): no_traffic.");
        unregistered.ShouldContain("kennel channels register tg");
        var noUrl = await serve.CliAsync("channels", "register", "tg");
        noUrl.ExitCode.ShouldBe(1, noUrl.ToString());
        noUrl.Stderr.ShouldContain("KENNEL_EXTERNAL_URL");
        (await serve.CliSucceedsAsync("channels", "register", "tg", "--url", "https://kennel.example.com")).Stdout
            .ShouldBe("registered: https://kennel.example.com/v1/channel-events/default/tg: setWebhook: Webhook was set.\n");

        var probed = (await serve.CliSucceedsAsync("channels", "status", "tg", "--probe")).Stdout;
        probed.ShouldContain("Probe: ok, getMe: @kennel_test_bot (7000001), Kennel Test.");
        probed.ShouldContain("accepted");

        using (var http = new HttpClient())
        using (var delivered = await http.SendAsync(FakeTelegram.Deliver(new Uri(serve.Url, "/v1/channel-events/default/tg").AbsoluteUri,
            FakeTelegram.Message(1, 42, 42, "is the build green?", 10))))
        {
            delivered.EnsureSuccessStatusCode();
        }
        (await serve.CliSucceedsAsync("channels", "send", "tg", "--to", "42", "--message", "10", "Deploy finished.")).Stdout.ShouldStartWith("Sent (chm_");
        var sent = telegram.Calls.Single(c => c.Method == "sendMessage" && c.Body["text"]!.GetValue<string>() == "Deploy finished.");
        sent.Body["reply_parameters"]!["message_id"]!.GetValue<long>().ShouldBe(10);
        (await serve.CliSucceedsAsync("channels", "react", "tg", "--to", "42", "--message", "10", "👍")).Stdout.ShouldStartWith("Sent (chm_");

        var table = (await serve.CliSucceedsAsync("channels", "list")).Stdout;
        table.ShouldContain("HEALTH");
        table.ShouldContain("tg");
        var searched = (await serve.CliSucceedsAsync("channels", "history", "tg", "--query", "BUILD", "--direction", "in")).Stdout;
        searched.ShouldContain("tg 42 from 42: is the build green?");
        var page = JsonSerializer.Deserialize((await serve.CliSucceedsAsync("channels", "history", "tg", "--query", "deploy", "--json")).Stdout,
            KennelJson.Default.ChannelMessagePage)!;
        (page.Items.Single().Status, page.Items.Single().Direction).ShouldBe(("sent", "out"));

        telegram.ThenFail(400, "Bad Request: chat not found");
        var refused = await serve.CliAsync("channels", "send", "tg", "--to", "-100999", "hello?");
        refused.ExitCode.ShouldBe(1, refused.ToString());
        refused.Stdout.ShouldContain("Telegram: 400 Bad Request: chat not found");

        var unknown = await serve.CliAsync("channels", "send", "nope", "--to", "42", "hi");
        unknown.ExitCode.ShouldBe(1, unknown.ToString());
        unknown.Stderr.ShouldContain("nope");
        (await serve.CliAsync("channels", "status", "nope")).Stderr.ShouldContain("no channel 'nope'");
        var noChat = await serve.CliAsync("channels", "send", "tg", "hi");
        noChat.ExitCode.ShouldNotBe(0);
        noChat.Stderr.ShouldContain("--to");
        (await serve.CliSucceedsAsync("channels", "--help")).Stdout.ShouldContain("kennel channels send tg --to");
    }
}
