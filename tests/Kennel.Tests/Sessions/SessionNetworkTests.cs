using System.Net;
using System.Net.Http.Json;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Sessions;
using Kennel.Sandbox.Network;
using Kennel.Testing;
using Kennel.Testing.Egress;

namespace Kennel.Tests.Sessions;

/// <summary>A test internet and a resolver for its names, shared by a class's tests.</summary>
public sealed class TestInternetWithNames : IDisposable
{
    public TestInternetWithNames()
    {
        Internet = new TestInternet();
        Resolver = new TestResolver(new Dictionary<string, IPAddress[]>(StringComparer.Ordinal)
        {
            ["api.example.test"] = [Internet.Address],
            ["other.example.test"] = [Internet.Address],
        });
    }

    public TestInternet Internet { get; }

    public TestResolver Resolver { get; }

    public Func<Kennel.ControlPlane.Hosting.KennelSettings, Kennel.ControlPlane.Hosting.KennelSettings> Settings => s => s with
    {
        SandboxEgress = new EgressOptions { Resolver = Resolver.EndPoint, AllowedPrivateRanges = [Internet.Range] },
    };

    public void Dispose()
    {
        Resolver.Dispose();
        Internet.Dispose();
    }
}

public sealed class SessionNetworkTests(TestInternetWithNames world) : IClassFixture<TestInternetWithNames>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_with_an_allowlist_reaches_the_listed_host_and_shows_what_it_moved_and_what_was_refused(string store)
    {
        await using var server = await TestServer.StartAsync(store, world.Settings);
        using var client = server.Client();

        var created = await client.CreateSessionAsync(new CreateSessionRequest
        {
            Script = "curl -sSk https://api.example.test/repos && curl -sSk https://other.example.test/",
            Network = new SessionNetwork { Mode = "allowlist", Allow = ["API.example.test", "*.pypi.test:8443"] },
        });
        var done = await client.WaitAsync(created.Id);

        created.Network.Mode.ShouldBe("allowlist");
        created.Network.Allow.ShouldBe(["api.example.test", "*.pypi.test:8443"]);
        done.Stdout.ShouldBe("https api.example.test /repos\n");
        done.Stderr.ShouldContain("403");
        done.Status.ShouldBe(SessionStatus.Failed);
        var egress = done.Egress.ShouldNotBeNull();
        egress.BytesIn.ShouldBeGreaterThan(0);
        egress.BytesOut.ShouldBeGreaterThan(0);
        egress.Refused.ShouldBe(1);
        egress.RefusedDestinations.ShouldBe([new RefusedDestination("other.example.test", 443, "not-in-allowlist")]);
        var read = (await client.GetSessionAsync(created.Id)).Egress.ShouldNotBeNull();
        read.BytesIn.ShouldBe(egress.BytesIn);
        read.RefusedDestinations.ShouldBe(egress.RefusedDestinations);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_session_without_network_shows_none_and_no_egress(string store)
    {
        await using var server = await TestServer.StartAsync(store, world.Settings);
        using var client = server.Client();

        var done = await client.WaitAsync((await client.RunScriptAsync("curl -sS -m 5 https://api.example.test/ || echo offline")).Id);

        done.Stdout.ShouldBe("offline\n");
        done.Network.Mode.ShouldBe("none");
        done.Egress.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Open_mode_is_for_installation_admins_and_the_workspaces_the_installation_lists(string store)
    {
        await using var server = await TestServer.StartAsync(store, s => world.Settings(s) with { EmbeddedWorker = false });
        using var admin = server.Client();
        var writer = await admin.CreateApiKeyAsync(null, Scopes.Read, Scopes.Write);
        using var client = server.Client(writer.Key);
        var open = new CreateSessionRequest { Script = "true", Network = new SessionNetwork { Mode = "open" } };

        using var refused = await client.PostAsJsonAsync("/v1/sessions", open, Kennel.Contracts.KennelJson.Default.CreateSessionRequest);
        await refused.ShouldBeProblemAsync(403, "network_mode_forbidden", "network.mode");
        (await admin.CreateSessionAsync(open)).Network.Mode.ShouldBe("open");

        await using var listing = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false, OpenNetworkWorkspaces = new HashSet<string> { "default" } });
        using var listed = listing.Client((await listing.Client().CreateApiKeyAsync(null, Scopes.Read, Scopes.Write)).Key);
        (await listed.CreateSessionAsync(open)).Network.Mode.ShouldBe("open");
    }
}
