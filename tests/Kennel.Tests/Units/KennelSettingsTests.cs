using Kennel.ControlPlane.Hosting;
using Npgsql;

namespace Kennel.Tests.Units;

public sealed class KennelSettingsTests
{
    [Fact]
    public void With_nothing_set_every_default_applies()
    {
        var settings = KennelSettings.FromEnvironment(_ => null);

        settings.Listen.ShouldBe("127.0.0.1:4000");
        settings.ListenUrl.ShouldBe("http://127.0.0.1:4000");
        settings.DataDir.ShouldBe(KennelSettings.DefaultDataDir());
        settings.DataDir.ShouldEndWith(".kennel");
        settings.DatabaseUrl.ShouldBeNull();
        settings.ExternalUrl.ShouldBeNull();
        settings.MaxBodyBytes.ShouldBe(1024 * 1024);
        settings.EmbeddedWorker.ShouldBeTrue();
        settings.EmbeddedWorkerCapacity.ShouldBeNull();
        settings.ControlPlane.LeaseTtl.ShouldBe(TimeSpan.FromSeconds(30));
        settings.ControlPlane.OutputLimitBytes.ShouldBe(1024 * 1024);
        settings.ControlPlane.MaxConcurrentRuns.ShouldBe(256);
        settings.SandboxUids.ShouldBe(new Kennel.Worker.SandboxUidRange(2_000_000_000, 65_536));
        settings.SandboxSharedDirectory.ShouldBeNull();
        settings.Outbound.ShouldBeSameAs(Kennel.ControlPlane.Http.OutboundAddresses.PublicOnly);
    }

    [Fact]
    public void Blank_values_count_as_unset()
    {
        var settings = KennelSettings.FromEnvironment(_ => "  ");

        settings.Listen.ShouldBe("127.0.0.1:4000");
        settings.DatabaseUrl.ShouldBeNull();
        settings.EmbeddedWorker.ShouldBeTrue();
    }

    [Fact]
    public void Every_variable_is_read()
    {
        var env = new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = "0.0.0.0:5000",
            ["KENNEL_DATA_DIR"] = "/srv/kennel",
            ["KENNEL_DATABASE_URL"] = "postgres://k@db/kennel",
            ["KENNEL_EXTERNAL_URL"] = "https://kennel.example.com",
            ["KENNEL_MAX_BODY_BYTES"] = "2048",
            ["KENNEL_EMBEDDED_WORKER"] = "false",
            ["KENNEL_WORKER_VCPUS"] = "3",
            ["KENNEL_LEASE_TTL_SECONDS"] = "7",
            ["KENNEL_OUTPUT_LIMIT_BYTES"] = "999",
            ["KENNEL_SANDBOX_UIDS"] = "300000-300099",
            ["KENNEL_SANDBOX_SHARED_DIR"] = "/srv/kennel-sandbox",
            ["KENNEL_METRICS_LISTEN"] = "10.0.0.5:9464",
            ["KENNEL_AGENT_MAX_CONCURRENT_RUNS"] = "12",
            ["KENNEL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.0/8,10.0.0.0/8",
        };

        var settings = KennelSettings.FromEnvironment(name => env.GetValueOrDefault(name));

        settings.Listen.ShouldBe("0.0.0.0:5000");
        settings.DataDir.ShouldBe("/srv/kennel");
        settings.DatabaseUrl.ShouldBe("postgres://k@db/kennel");
        settings.ExternalUrl.ShouldBe("https://kennel.example.com");
        settings.MaxBodyBytes.ShouldBe(2048);
        settings.EmbeddedWorker.ShouldBeFalse();
        settings.EmbeddedWorkerCapacity!.Vcpus.ShouldBe(3);
        settings.ControlPlane.LeaseTtl.ShouldBe(TimeSpan.FromSeconds(7));
        settings.ControlPlane.OutputLimitBytes.ShouldBe(999);
        settings.SandboxUids.ShouldBe(new Kennel.Worker.SandboxUidRange(300_000, 100));
        settings.SandboxSharedDirectory.ShouldBe("/srv/kennel-sandbox");
        settings.MetricsListen.ShouldBe("10.0.0.5:9464");
        settings.ControlPlane.MaxConcurrentRuns.ShouldBe(12);
        settings.Outbound.Allowed.Select(network => network.ToString()).ShouldBe(["127.0.0.0/8", "10.0.0.0/8"]);
    }

    [Theory]
    [InlineData("KENNEL_MAX_BODY_BYTES", "lots")]
    [InlineData("KENNEL_MAX_BODY_BYTES", "-1")]
    [InlineData("KENNEL_MAX_BODY_BYTES", "1.5")]
    [InlineData("KENNEL_LEASE_TTL_SECONDS", "30s")]
    [InlineData("KENNEL_AGENT_MAX_CONCURRENT_RUNS", "0")]
    [InlineData("KENNEL_OUTPUT_LIMIT_BYTES", "99999999999")]
    [InlineData("KENNEL_WORKER_MEMORY_MB", "8G")]
    [InlineData("KENNEL_SANDBOX_UID", "nobody")]
    [InlineData("KENNEL_SANDBOX_UID", "65534")]
    [InlineData("KENNEL_SANDBOX_UIDS", "65534")]
    [InlineData("KENNEL_SANDBOX_UIDS", "200-100")]
    [InlineData("KENNEL_SANDBOX_UIDS", "0-100")]
    [InlineData("KENNEL_SANDBOX_UIDS", "1-2147483647")]
    [InlineData("KENNEL_SANDBOX_UIDS", "-5-10")]
    [InlineData("KENNEL_SANDBOX_SHARED_DIR", "relative/dir")]
    [InlineData("KENNEL_EMBEDDED_WORKER", "maybe")]
    [InlineData("KENNEL_MCP_IDLE_TIMEOUT_SECONDS", "0")]
    [InlineData("KENNEL_MCP_IDLE_TIMEOUT_SECONDS", "soon")]
    [InlineData("KENNEL_LISTEN", "nonsense")]
    [InlineData("KENNEL_LISTEN", "127.0.0.1")]
    [InlineData("KENNEL_LISTEN", "0.0.0.0:http")]
    [InlineData("KENNEL_LISTEN", "http://127.0.0.1:4000/base")]
    [InlineData("KENNEL_LISTEN", "https://127.0.0.1:4000")]
    [InlineData("KENNEL_OUTBOUND_ALLOW_CIDRS", "private")]
    [InlineData("KENNEL_METRICS_LISTEN", "9464")]
    [InlineData("KENNEL_METRICS_LISTEN", "http://127.0.0.1:9464/metrics")]
    public void A_bad_value_stops_the_start_naming_the_variable(string name, string value)
    {
        var problem = Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(n => n == name ? value : null));

        problem.Message.ShouldContain(name);
        problem.Message.ShouldContain(value);
    }

    [Fact]
    public void Mcp_settings_are_read_from_the_environment()
    {
        var settings = KennelSettings.FromEnvironment(name => name switch
        {
            "KENNEL_MCP_IDLE_TIMEOUT_SECONDS" => "90",
            "KENNEL_MCP_ALLOWED_ORIGINS" => "https://a.example, https://b.example",
            _ => null,
        });

        settings.Mcp.IdleTimeout.ShouldBe(TimeSpan.FromSeconds(90));
        settings.Mcp.AllowedOrigins.ShouldBe(["https://a.example", "https://b.example"]);
    }

    [Fact]
    public void The_MCP_rate_limit_is_requests_a_minute_per_client_and_0_turns_it_off()
    {
        KennelSettings.FromEnvironment(_ => null).Mcp.RateLimitPerMinute.ShouldBe(60);
        KennelSettings.FromEnvironment(n => n == "KENNEL_MCP_RATE_LIMIT" ? "600" : null).Mcp.RateLimitPerMinute.ShouldBe(600);
        KennelSettings.FromEnvironment(n => n == "KENNEL_MCP_RATE_LIMIT" ? "0" : null).Mcp.RateLimitPerMinute.ShouldBe(0);
        foreach (var bad in new[] { "-1", "60/min", "lots" })
        {
            var problem = Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(n => n == "KENNEL_MCP_RATE_LIMIT" ? bad : null));
            problem.Message.ShouldContain("KENNEL_MCP_RATE_LIMIT");
            problem.Message.ShouldContain(bad);
        }
    }

    [Fact]
    public void The_OAuth_key_encryption_key_is_32_bytes_of_base64()
    {
        KennelSettings.FromEnvironment(_ => null).OAuth.KeyEncryptionKey.ShouldBeNull();
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        KennelSettings.FromEnvironment(n => n == "KENNEL_OAUTH_KEY_ENCRYPTION_KEY" ? Convert.ToBase64String(key) : null).OAuth.KeyEncryptionKey.ShouldBe(key);
        foreach (var bad in new[] { Convert.ToBase64String(new byte[16]), "not base64!" })
        {
            Should.Throw<SettingsException>(() => KennelSettings.FromEnvironment(n => n == "KENNEL_OAUTH_KEY_ENCRYPTION_KEY" ? bad : null))
                .Message.ShouldContain("KENNEL_OAUTH_KEY_ENCRYPTION_KEY");
        }
    }

    [Theory]
    [InlineData("127.0.0.1:4000")]
    [InlineData("0.0.0.0:8080")]
    [InlineData("[::1]:4000")]
    [InlineData("localhost:4000")]
    [InlineData("http://127.0.0.1:4000")]
    public void A_listen_address_with_an_explicit_port_is_accepted(string listen) =>
        KennelSettings.FromEnvironment(name => name == "KENNEL_LISTEN" ? listen : null).Listen.ShouldBe(listen);

    [Theory]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("TRUE", true)]
    [InlineData("off", false)]
    [InlineData("0", false)]
    public void Booleans_accept_the_usual_spellings(string value, bool expected) =>
        KennelSettings.FromEnvironment(n => n == "KENNEL_EMBEDDED_WORKER" ? value : null).EmbeddedWorker.ShouldBe(expected);

    [Fact]
    public void A_postgres_url_becomes_a_connection_string()
    {
        var builder = new NpgsqlConnectionStringBuilder(KennelSettings.ToNpgsqlConnectionString("postgres://kennel:p%40ss%3Aword@db.internal:6543/kennel_prod"));

        builder.Host.ShouldBe("db.internal");
        builder.Port.ShouldBe(6543);
        builder.Database.ShouldBe("kennel_prod");
        builder.Username.ShouldBe("kennel");
        builder.Password.ShouldBe("p@ss:word");
    }

    [Fact]
    public void A_postgresql_url_without_port_or_credentials_uses_the_defaults()
    {
        var builder = new NpgsqlConnectionStringBuilder(KennelSettings.ToNpgsqlConnectionString("postgresql://localhost/kennel"));

        builder.Host.ShouldBe("localhost");
        builder.Port.ShouldBe(5432);
        builder.Database.ShouldBe("kennel");
        builder.Username.ShouldBeNull();
        builder.Password.ShouldBeNull();
    }

    [Fact]
    public void A_keyword_connection_string_passes_through()
    {
        var builder = new NpgsqlConnectionStringBuilder(KennelSettings.ToNpgsqlConnectionString("Host=pg;Port=5433;Database=k;Username=u;Password=p"));

        builder.Host.ShouldBe("pg");
        builder.Port.ShouldBe(5433);
        builder.Database.ShouldBe("k");
        builder.Username.ShouldBe("u");
        builder.Password.ShouldBe("p");
    }
}
