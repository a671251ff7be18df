using Kennel.ControlPlane.Auth;

namespace Kennel.Tests.Units;

public sealed class OpaqueTokenTests
{
    [Fact]
    public void A_created_token_parses_back_to_itself_and_matches_its_hash()
    {
        var token = OpaqueToken.Create("kn");

        OpaqueToken.TryParse(token.Value, "kn", out var parsed).ShouldBeTrue();

        parsed.ShouldBe(token);
        parsed.Matches(token.SecretHash).ShouldBeTrue();
        token.Value.ShouldStartWith("kn_");
        token.Value.Length.ShouldBe("kn_".Length + 12 + 1 + 40);
    }

    [Fact]
    public void The_stored_hash_does_not_contain_the_secret()
    {
        var token = OpaqueToken.Create("kn");

        token.SecretHash.ShouldNotContain(token.Secret);
        token.SecretHash.Length.ShouldBe(64);
    }

    [Fact]
    public void Tokens_are_unique()
    {
        var tokens = Enumerable.Range(0, 1000).Select(_ => OpaqueToken.Create("kn").Value).ToHashSet();

        tokens.Count.ShouldBe(1000);
    }

    [Fact]
    public void A_tampered_secret_does_not_match()
    {
        var token = OpaqueToken.Create("kn");
        var secret = token.Secret.ToCharArray();
        secret[^1] = secret[^1] == 'a' ? 'b' : 'a';
        var tampered = token with { Secret = new string(secret) };

        OpaqueToken.TryParse(tampered.Value, "kn", out var parsed).ShouldBeTrue();
        parsed.Matches(token.SecretHash).ShouldBeFalse();
        OpaqueToken.Create("kn").Matches(token.SecretHash).ShouldBeFalse();
        token.Matches("").ShouldBeFalse();
        token.Matches(token.SecretHash.ToUpperInvariant()).ShouldBeFalse();
    }

    [Fact]
    public void TryParse_rejects_malformed_values()
    {
        var good = OpaqueToken.Create("kn").Value;
        string?[] malformed =
        [
            null,
            "",
            "kn_",
            good[..^1],
            good + "a",
            "kw" + good[2..],
            "kwt_" + good[3..],
            good.ToUpperInvariant(),
            good[..15] + "-" + good[16..],
            good[..3] + "i" + good[4..],
            good[..^1] + "u",
            good[..^1] + " ",
            " " + good[..^1],
            good.Replace('_', '-'),
        ];

        foreach (var value in malformed)
        {
            OpaqueToken.TryParse(value, "kn", out _).ShouldBeFalse(value ?? "(null)");
        }
    }

    [Fact]
    public void A_token_of_one_prefix_does_not_parse_as_another()
    {
        var worker = OpaqueToken.Create("kw");

        OpaqueToken.TryParse(worker.Value, "kn", out _).ShouldBeFalse();
        OpaqueToken.TryParse(worker.Value, "kwt", out _).ShouldBeFalse();
        OpaqueToken.TryParse(worker.Value, "kw", out _).ShouldBeTrue();
    }
}
