using Kennel.Store;

namespace Kennel.Tests.Units;

public sealed class SortableIdTests
{
    [Fact]
    public void Ids_made_in_one_process_strictly_increase()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => SortableId.New("ses", TimeProvider.System)).ToList();

        for (var i = 1; i < ids.Count; i++)
        {
            string.CompareOrdinal(ids[i - 1], ids[i]).ShouldBeLessThan(0, $"{ids[i - 1]} then {ids[i]}");
        }
        ids.Distinct().Count().ShouldBe(ids.Count);
    }

    [Fact]
    public void Ids_keep_increasing_when_the_clock_steps_back()
    {
        var before = SortableId.New("ses", TimeProvider.System);

        var after = SortableId.New("ses", new FixedClock(DateTimeOffset.UnixEpoch.AddYears(30)));

        string.CompareOrdinal(before, after).ShouldBeLessThan(0);
    }

    [Fact]
    public void An_id_has_its_prefix_and_26_lowercase_base32_characters()
    {
        var id = SortableId.New("ses", TimeProvider.System);

        id.ShouldStartWith("ses_");
        id.Length.ShouldBe(4 + SortableId.Length);
        id[4..].ShouldAllBe(c => "0123456789abcdefghjkmnpqrstvwxyz".Contains(c));
        SortableId.IsValid(id, "ses").ShouldBeTrue();
    }

    [Fact]
    public void Ids_sort_by_creation_time()
    {
        var older = SortableId.New("x", new FixedClock(DateTimeOffset.UnixEpoch.AddYears(20)));
        var id = SortableId.New("x", TimeProvider.System);

        string.CompareOrdinal(older, id).ShouldBeLessThan(0);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ses_")]
    [InlineData("ses")]
    [InlineData("ses_01jzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("ses_01jzzzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("key_01jzzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("SES_01jzzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("ses_01JZZZZZZZZZZZZZZZZZZZZZZZ")]
    [InlineData("ses_01jzzzzzzzzzzzzzzzzzzzzzzi")]
    [InlineData("ses_01jzzzzzzzzzzzzzzzzzzzzzzu")]
    [InlineData("ses-01jzzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("ses_01jzzzzzzzzzzzzzzzzzzzzzz ")]
    [InlineData("ses_../../../../etc/passwd00")]
    public void IsValid_refuses_anything_but_a_well_formed_id_of_the_prefix(string? value) =>
        SortableId.IsValid(value, "ses").ShouldBeFalse();

    [Fact]
    public void IsValid_accepts_a_well_formed_id() =>
        SortableId.IsValid("ses_01jzzzzzzzzzzzzzzzzzzzzzzz", "ses").ShouldBeTrue();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
