using Kennel.Contracts.Servers;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// <c>POST /v1/servers/test</c> against a real sshd in its own network namespace: a real handshake, authentication, host
/// key checks and the probe, and each failure with its own code.
/// </summary>
public sealed class ConnectionTests(ServersWithoutWorkers servers, TestSshd sshd) : IClassFixture<ServersWithoutWorkers>, IClassFixture<TestSshd>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_password_login_reports_the_host_key_and_the_machine(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var test = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Password = TestSshd.RootPassword });

        test.Ok.ShouldBeTrue(test.Error?.Message);
        test.Address.ShouldBe(sshd.Address);
        test.Port.ShouldBe(22);
        test.Username.ShouldBe("root");
        test.HostKey!.Fingerprint.ShouldBe(sshd.HostKeyFingerprint);
        test.HostKey.Algorithm.ShouldBe("ssh-ed25519");
        var system = test.System!;
        system.Os.ShouldBe("Linux");
        system.Distribution.ShouldBe("debian");
        system.Architecture.ShouldBe(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "aarch64" : "x86_64");
        system.Kernel.ShouldBe((await File.ReadAllTextAsync("/proc/sys/kernel/osrelease")).Trim());
        system.Root.ShouldBeTrue();
        system.BubblewrapInstalled.ShouldBeTrue();
        system.BubblewrapUsable.ShouldBeTrue();
        system.CgroupsUsable.ShouldBeTrue();
        system.Cpus.ShouldBe(Environment.ProcessorCount);
        system.MemoryTotalMb.ShouldBeGreaterThan(0);
        system.MemoryAvailableMb.ShouldBeInRange(1, system.MemoryTotalMb);
        system.DiskFreeMb.ShouldBeGreaterThan(0);
        system.PackageManager.ShouldBe("apt-get");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_private_key_logs_in_with_or_without_a_passphrase(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var plain = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, PrivateKey = sshd.Key });
        var encrypted = await admin.TestConnectionAsync(new TestConnectionRequest
        {
            Address = sshd.Address,
            PrivateKey = sshd.EncryptedKey,
            Passphrase = TestSshd.KeyPassphrase,
        });

        plain.Ok.ShouldBeTrue(plain.Error?.Message);
        encrypted.Ok.ShouldBeTrue(encrypted.Error?.Message);
        encrypted.HostKey!.Fingerprint.ShouldBe(sshd.HostKeyFingerprint);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_wrong_password_or_an_unknown_key_is_auth_failed_and_echoes_no_secret(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var wrong = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Password = "not-the-password" });
        var otherKey = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Username = TestSshd.PlainUser, PrivateKey = sshd.OtherKey });

        wrong.Ok.ShouldBeFalse();
        wrong.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        wrong.Error.Message.ShouldNotContain("not-the-password");
        wrong.System.ShouldBeNull();
        otherKey.Error!.Code.ShouldBe(ConnectionErrors.AuthFailed);
        otherKey.Error.Message.ShouldContain("private key");
        otherKey.Error.Message.ShouldNotContain("BEGIN");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_user_without_root_or_sudo_is_insufficient_privileges_with_the_machine_reported(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var test = await admin.TestConnectionAsync(new TestConnectionRequest
        {
            Address = sshd.Address,
            Username = TestSshd.PlainUser,
            Password = TestSshd.PlainPassword,
        });

        test.Ok.ShouldBeFalse();
        test.Error!.Code.ShouldBe(ConnectionErrors.InsufficientPrivileges);
        test.System!.Root.ShouldBeFalse();
        test.System.PasswordlessSudo.ShouldBeFalse();
        test.System.Os.ShouldBe("Linux");
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_closed_port_is_unreachable_and_a_blackholed_address_is_timeout(string store)
    {
        var server = await servers.GetAsync(store);
        using var admin = server.Client();

        var closed = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Port = 2222, Password = "x" });
        var blackholed = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Blackhole, Password = "x", TimeoutSeconds = 1 });
        var unresolvable = await admin.TestConnectionAsync(new TestConnectionRequest { Address = "no-such-host.invalid", Password = "x" });

        closed.Error!.Code.ShouldBe(ConnectionErrors.Unreachable);
        closed.Error.Message.ShouldContain("port 2222");
        closed.HostKey.ShouldBeNull();
        blackholed.Error!.Code.ShouldBe(ConnectionErrors.Timeout);
        blackholed.Error.Message.ShouldContain("1 s");
        unresolvable.Error!.Code.ShouldBe(ConnectionErrors.Unreachable);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Host_keys_are_trusted_on_first_use_pinned_on_request_and_a_changed_one_is_refused(string store)
    {
        // A fresh control plane, so this address's key is new to it.
        await using var server = await TestServer.StartAsync(store, s => s with { EmbeddedWorker = false });
        using var admin = server.Client();
        var login = new TestConnectionRequest { Address = sshd.Address, Password = TestSshd.RootPassword };

        var first = await admin.TestConnectionAsync(login);
        var second = await admin.TestConnectionAsync(login);
        var wrongPin = await admin.TestConnectionAsync(login with { ExpectedHostKey = "SHA256:" + new string('A', 43) });

        first.HostKey!.Trust.ShouldBe("new");
        second.HostKey!.Trust.ShouldBe("known");
        wrongPin.Error!.Code.ShouldBe(ConnectionErrors.HostKeyMismatch);
        wrongPin.HostKey!.Fingerprint.ShouldBe(sshd.HostKeyFingerprint);

        var old = sshd.HostKeyFingerprint;
        await sshd.RekeyAsync();
        try
        {
            var changed = await admin.TestConnectionAsync(login);
            changed.Ok.ShouldBeFalse();
            changed.Error!.Code.ShouldBe(ConnectionErrors.HostKeyMismatch);
            changed.Error.Message.ShouldContain(sshd.HostKeyFingerprint);
            changed.HostKey!.Fingerprint.ShouldNotBe(old);
            changed.System.ShouldBeNull();

            var repinned = await admin.TestConnectionAsync(login with { ExpectedHostKey = sshd.HostKeyFingerprint });
            var after = await admin.TestConnectionAsync(login);

            repinned.Ok.ShouldBeTrue(repinned.Error?.Message);
            repinned.HostKey!.Trust.ShouldBe("pinned");
            after.HostKey!.Trust.ShouldBe("known");
        }
        finally
        {
            // The other tests' control planes trust the key they saw first; pin it again for them.
            foreach (var shared in new[] { TestStore.Sqlite, TestStore.Postgres })
            {
                using var client = (await servers.GetAsync(shared)).Client();
                await client.TestConnectionAsync(login with { ExpectedHostKey = sshd.HostKeyFingerprint });
            }
        }
    }

    [Fact]
    public async Task A_machine_that_answers_the_probe_with_endless_output_fails_with_output_too_large()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        using var admin = server.Client();

        // Every command of this user is 'yes kennel', which writes until it is stopped.
        var test = await admin.TestConnectionAsync(new TestConnectionRequest
        {
            Address = sshd.Address,
            Username = TestSshd.FloodUser,
            Password = TestSshd.FloodPassword,
        });
        var after = await admin.TestConnectionAsync(new TestConnectionRequest { Address = sshd.Address, Password = TestSshd.RootPassword });

        test.Ok.ShouldBeFalse();
        test.Error!.Code.ShouldBe(ConnectionErrors.OutputTooLarge);
        test.Error.Message.ShouldContain("1 MiB");
        test.HostKey!.Fingerprint.ShouldBe(sshd.HostKeyFingerprint);
        test.System.ShouldBeNull();
        after.Ok.ShouldBeTrue(after.Error?.Message);
    }
}
