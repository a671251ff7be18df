using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary>What <c>kennel serve</c> says when it cannot start: one line naming what to fix, exit 2, no stack trace.</summary>
public sealed class ServeStartupTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    [Fact]
    public async Task A_listen_address_already_in_use_is_named_and_nothing_else_starts()
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-port-");
        try
        {
            var result = await Cli.RunAsync(new Dictionary<string, string?>
            {
                ["KENNEL_LISTEN"] = $"127.0.0.1:{fixture.Serve.Url.Port}",
                ["KENNEL_DATA_DIR"] = dataDir.FullName,
            }, "serve");

            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.ShouldContain($"Cannot listen on 127.0.0.1:{fixture.Serve.Url.Port}");
            result.Stderr.ShouldContain("KENNEL_LISTEN");
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("KENNEL_LISTEN", "nonsense")]
    [InlineData("KENNEL_LISTEN", "127.0.0.1")]
    [InlineData("KENNEL_DATABASE_URL", "Host=127.0.0.1;Port=1;Database=kennel;Timeout=2")]
    [InlineData("KENNEL_LEASE_TTL_SECONDS", "soon")]
    public async Task A_bad_setting_stops_the_start_naming_the_variable(string name, string value)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-system-setting-");
        try
        {
            var env = new Dictionary<string, string?>
            {
                ["KENNEL_LISTEN"] = $"127.0.0.1:{LoopbackPort.Free()}",
                ["KENNEL_DATA_DIR"] = dataDir.FullName,
                [name] = value,
            };

            var result = await Cli.RunAsync(env, "serve");

            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.ShouldContain(name);
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
    }
}
