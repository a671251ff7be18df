using System.Net;
using System.Text.Json.Nodes;
using Kennel.ControlPlane.Channels;
using Kennel.ControlPlane.Channels.Discord;

namespace Kennel.Tests.Units;

public sealed class DiscordGatewayProtocolTests
{
    [Theory]
    [InlineData(4004, DiscordGatewayProtocol.AfterEnd.Stop)]
    [InlineData(4014, DiscordGatewayProtocol.AfterEnd.Stop)]
    [InlineData(4013, DiscordGatewayProtocol.AfterEnd.Stop)]
    [InlineData(4007, DiscordGatewayProtocol.AfterEnd.Identify)]
    [InlineData(4009, DiscordGatewayProtocol.AfterEnd.Identify)]
    [InlineData(4000, DiscordGatewayProtocol.AfterEnd.Resume)]
    [InlineData(1006, DiscordGatewayProtocol.AfterEnd.Resume)]
    [InlineData(null, DiscordGatewayProtocol.AfterEnd.Resume)]
    public void A_close_code_decides_whether_to_resume_identify_anew_or_stop(int? code, DiscordGatewayProtocol.AfterEnd expected)
    {
        var (then, why) = DiscordGatewayProtocol.AfterClose(code);
        then.ShouldBe(expected);
        (why is not null).ShouldBe(expected == DiscordGatewayProtocol.AfterEnd.Stop);
    }

    [Fact]
    public void Identify_asks_for_guild_and_direct_messages_with_their_content()
    {
        var identify = JsonNode.Parse(DiscordGatewayProtocol.IdentifyPayload("t0ken"))!;
        identify["op"]!.GetValue<int>().ShouldBe(2);
        identify["d"]!["intents"]!.GetValue<int>().ShouldBe(37376);
        JsonNode.Parse(DiscordGatewayProtocol.ResumePayload("t0ken", "abc", 42))!.ToJsonString()
            .ShouldBe("""{"op":6,"d":{"token":"t0ken","session_id":"abc","seq":42}}""");
        DiscordGatewayProtocol.HeartbeatPayload(null).ShouldBe("""{"op":1,"d":null}""");
        DiscordGatewayProtocol.ConnectUrl("wss://gateway.discord.gg").ToString().ShouldBe("wss://gateway.discord.gg/?v=10&encoding=json");
    }

    [Fact]
    public void A_message_create_is_a_message_of_its_channel_unless_a_bot_wrote_it_or_it_has_no_text()
    {
        static JsonObject Create(string author, bool bot, string content) => new()
        {
            ["id"] = "11",
            ["channel_id"] = "22",
            ["author"] = new JsonObject { ["id"] = author, ["bot"] = bot },
            ["content"] = content,
        };
        DiscordGatewayProtocol.Message(Create("33", false, "hi"), "99").ShouldBe(new InboundEvent.Message("11", "22", null, "33", "hi", "11"));
        DiscordGatewayProtocol.Message(Create("99", false, "my own"), "99").ShouldBeOfType<InboundEvent.Skipped>();
        DiscordGatewayProtocol.Message(Create("44", true, "another bot"), "99").ShouldBeOfType<InboundEvent.Skipped>();
        DiscordGatewayProtocol.Message(Create("33", false, ""), "99").ShouldBeOfType<InboundEvent.Skipped>();
        DiscordGatewayProtocol.Message(null, "99").ShouldBeOfType<InboundEvent.Skipped>();
    }

    [Fact]
    public void A_429_waits_for_the_longest_of_what_Discord_asked_for()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.Add("X-RateLimit-Reset-After", "1.250");
        response.Headers.Add("Retry-After", "2");
        DiscordChannel.RateLimitWait(response, new JsonObject { ["retry_after"] = 3.5 }).ShouldBe(TimeSpan.FromSeconds(3.5));
        DiscordChannel.RateLimitWait(response, null).ShouldBe(TimeSpan.FromSeconds(2));
        using var bare = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        DiscordChannel.RateLimitWait(bare, null).ShouldBeNull();
    }
}
