using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Xunit;

namespace Kennel.Testing;

/// <summary>
/// A real OpenSSH server (Debian's <c>openssh-server</c>) in a network namespace of its own, reached from the tests over a
/// veth pair: <see cref="Address"/> port 22. Its host key, config and users are its own: inside the namespace's mount
/// namespace, <c>/etc/passwd</c> and <c>/etc/shadow</c> are replaced by files that know <c>root</c> (password
/// <see cref="RootPassword"/>) and <see cref="PlainUser"/> (no sudo), so nothing of the machine's accounts changes.
/// <see cref="Blackhole"/> is an address on the same link whose packets the namespace drops unanswered. What a login
/// changes stays in the namespace: <c>/etc</c> is a copy, and <c>/usr/local</c>, <c>/var/lib</c> and <c>/var/log</c> are
/// empty tmpfs, so add-server can install a worker there without touching the machine; a worker it starts lives in the
/// namespace and is killed with it.
/// </summary>
public sealed class TestSshd : IAsyncLifetime
{
    public const string RootPassword = "kennel-root-pw";
    public const string PlainUser = "plain";
    public const string PlainPassword = "kennel-plain-pw";
    public const string KeyPassphrase = "open sesame";

    /// <summary>A user whose every command is replaced (sshd's ForceCommand) by one that writes without end: a hostile machine.</summary>
    public const string FloodUser = "flood";
    public const string FloodPassword = "kennel-flood-pw";

    private readonly string dir = Directory.CreateTempSubdirectory("kennel-sshd-").FullName;
    private readonly string suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly System.Text.StringBuilder log = new();
    private Process? sshd;
    private int subnet;

    public string Address => $"10.213.{subnet}.2";

    /// <summary>The machine's end of the link: a control plane listening here is reachable from inside the namespace.</summary>
    public string HostSideAddress => $"10.213.{subnet}.1";
    public string Blackhole => $"10.213.{subnet}.3";
    public string Key => File.ReadAllText(Path.Combine(dir, "client_ed25519"));
    public string EncryptedKey => File.ReadAllText(Path.Combine(dir, "client_rsa"));
    public string OtherKey => File.ReadAllText(Path.Combine(dir, "other_ed25519"));

    /// <summary>The host key's fingerprint as <c>ssh-keygen -lf</c> prints it.</summary>
    public string HostKeyFingerprint { get; private set; } = "";

    private string Namespace => $"kennel-ssh-{suffix}";
    private string HostSide => $"ks{suffix}";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(dir, "authorized_keys"));
        Directory.CreateDirectory(Path.Combine(dir, "home"));
        Directory.CreateDirectory("/run/sshd");
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "client_ed25519"));
        await RunAsync("ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", KeyPassphrase, "-f", Path.Combine(dir, "client_rsa"));
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "other_ed25519"));
        var authorized = await File.ReadAllTextAsync(Path.Combine(dir, "client_ed25519.pub")) + await File.ReadAllTextAsync(Path.Combine(dir, "client_rsa.pub"));
        await File.WriteAllTextAsync(Path.Combine(dir, "authorized_keys", "root"), authorized);
        await File.WriteAllTextAsync(Path.Combine(dir, "authorized_keys", PlainUser), authorized);
        await RunAsync("cp", "-a", "/etc", Path.Combine(dir, "etc"));
        await WriteAccountsAsync();
        await NewHostKeyAsync();
        await CreateNamespaceAsync();
        await StartAsync();
    }

    /// <summary>The command lines of the processes in the namespace (sshd, and what logins started there).</summary>
    public async Task<IReadOnlyList<string>> ProcessesAsync()
    {
        var lines = new List<string>();
        foreach (var pid in (await RunAsync("ip", "netns", "pids", Namespace)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                lines.Add((await File.ReadAllTextAsync($"/proc/{pid.Trim()}/cmdline")).Replace('\0', ' '));
            }
            catch (IOException)
            {
                // Gone since it was listed.
            }
        }
        return lines;
    }

    /// <summary>Replaces the host key (as a reinstall would) and restarts the server.</summary>
    public async Task RekeyAsync()
    {
        await StopAsync();
        await NewHostKeyAsync();
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        // Whatever a test started inside (a worker add-server installed) goes with the namespace.
        foreach (var pid in (await RunAsync("ip", "netns", "pids", Namespace)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var kill = Process.Start("kill", ["-KILL", pid.Trim()]);
            await kill.WaitForExitAsync();
        }
        await RunAsync("ip", "link", "del", HostSide);
        await RunAsync("ip", "netns", "del", Namespace);
        Directory.Delete(dir, recursive: true);
    }

    private async Task WriteAccountsAsync()
    {
        var rootHash = (await RunAsync("openssl", "passwd", "-6", RootPassword)).Trim();
        var plainHash = (await RunAsync("openssl", "passwd", "-6", PlainPassword)).Trim();
        var floodHash = (await RunAsync("openssl", "passwd", "-6", FloodPassword)).Trim();
        var home = Path.Combine(dir, "home");
        // The machine's system users stay (sshd's privilege separation user among them); root and the test user are these.
        var system = (await File.ReadAllLinesAsync("/etc/passwd")).Where(line => !line.StartsWith("root:", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(dir, "etc", "passwd"),
            $"root:x:0:0:root:/root:/bin/sh\n{PlainUser}:x:64123:64123:plain:{home}:/bin/sh\n{FloodUser}:x:64124:64124:flood:{home}:/bin/sh\n" +
            $"{string.Join('\n', system)}\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "etc", "shadow"),
            $"root:{rootHash}:19000:0:99999:7:::\n{PlainUser}:{plainHash}:19000:0:99999:7:::\n{FloodUser}:{floodHash}:19000:0:99999:7:::\n");
        File.SetUnixFileMode(Path.Combine(dir, "etc", "shadow"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private async Task NewHostKeyAsync()
    {
        var key = Path.Combine(dir, "host_ed25519");
        File.Delete(key);
        File.Delete(key + ".pub");
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        // "256 SHA256:… comment (ED25519)"
        HostKeyFingerprint = (await RunAsync("ssh-keygen", "-lf", key + ".pub")).Split(' ')[1];
    }

    private async Task CreateNamespaceAsync()
    {
        var used = await RunAsync("ip", "-o", "addr", "show");
        var random = new Random();
        do
        {
            subnet = random.Next(1, 255);
        }
        while (used.Contains($"10.213.{subnet}.", StringComparison.Ordinal));
        await RunAsync("ip", "netns", "add", Namespace);
        await RunAsync("ip", "link", "add", HostSide, "type", "veth", "peer", "name", $"{HostSide}n");
        await RunAsync("ip", "link", "set", $"{HostSide}n", "netns", Namespace);
        await RunAsync("ip", "addr", "add", $"10.213.{subnet}.1/29", "dev", HostSide);
        await RunAsync("ip", "link", "set", HostSide, "up");
        await RunAsync("ip", "netns", "exec", Namespace, "ip", "addr", "add", $"{Address}/29", "dev", $"{HostSide}n");
        await RunAsync("ip", "netns", "exec", Namespace, "ip", "link", "set", $"{HostSide}n", "up");
        await RunAsync("ip", "netns", "exec", Namespace, "ip", "link", "set", "lo", "up");
        // Frames for the blackhole go to a hardware address nobody has: the namespace's end drops them, and nothing answers.
        await RunAsync("ip", "neigh", "replace", Blackhole, "lladdr", "02:00:00:00:00:01", "dev", HostSide, "nud", "permanent");
    }

    private async Task StartAsync()
    {
        var config = Path.Combine(dir, "sshd_config");
        await File.WriteAllTextAsync(config, $"""
            Port 22
            ListenAddress {Address}
            HostKey {dir}/host_ed25519
            PidFile {dir}/sshd.pid
            UsePAM no
            PermitRootLogin yes
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            AuthorizedKeysFile {dir}/authorized_keys/%u
            StrictModes no
            MaxAuthTries 10
            LogLevel ERROR
            Subsystem sftp /usr/lib/openssh/sftp-server
            Match User {FloodUser}
                ForceCommand yes kennel
            """);
        // nsenter rather than 'ip netns exec', which mounts a fresh /sys and so hides the machine's cgroups from the probe.
        var info = new ProcessStartInfo("nsenter") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            $"--net=/run/netns/{Namespace}", "unshare", "--mount", "--propagation", "private", "sh", "-c",
            $"mount --bind {dir}/etc /etc && mount -t tmpfs tmpfs /usr/local && mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /var/log && " +
            $"exec /usr/sbin/sshd -D -e -f {config}",
        })
        {
            info.ArgumentList.Add(arg);
        }
        sshd = Process.Start(info)!;
        sshd.ErrorDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        sshd.BeginErrorReadLine();
        sshd.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(Address, 22);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !sshd.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException refused)
            {
                lock (log)
                {
                    throw new InvalidOperationException($"sshd did not start: {log}", refused);
                }
            }
        }
    }

    private async Task StopAsync()
    {
        if (sshd is { HasExited: false })
        {
            sshd.Kill(entireProcessTree: true);
            await sshd.WaitForExitAsync();
        }
        sshd?.Dispose();
        sshd = null;
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            var error = await stderr;
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {error}"));
        }
        return await stdout;
    }
}
