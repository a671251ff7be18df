namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel usage</c> as a person types it, against a real <c>kennel serve</c>.</summary>
public sealed class UsageCommandTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private ServeProcess Serve => fixture.Serve;

    [Fact]
    public async Task Usage_prints_a_table_with_a_total_and_refuses_bad_ranges()
    {
        var help = (await Serve.CliSucceedsAsync("usage", "--help")).Stdout;
        foreach (var option in new[] { "--period", "--from", "--to", "--by", "conversations" })
        {
            help.ShouldContain(option);
        }

        var table = await Serve.CliSucceedsAsync("usage", "--period", "week", "--by", "model");
        table.Stdout.ShouldContain("MODEL");
        table.Stdout.ShouldContain("COST USD");
        table.Stdout.ShouldContain("TOTAL");
        table.Stderr.ShouldContain("UTC");
        (await Serve.CliSucceedsAsync("usage", "conversations", "--from", "2026-01-01", "--to", "2026-02-01")).Stdout.ShouldContain("CONVERSATION");

        var both = await Serve.CliAsync("usage", "--period", "day", "--from", "2026-01-01");
        both.ExitCode.ShouldBe(1, both.ToString());
        both.Stderr.ShouldContain("period");
        var unknown = await Serve.CliAsync("usage", "--by", "colour");
        unknown.ExitCode.ShouldNotBe(0, unknown.ToString());
    }
}
