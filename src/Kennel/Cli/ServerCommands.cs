using System.CommandLine;
using Kennel.Contracts;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Servers;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel server test|add|add-ec2|list|steps|delete</c>: machines reached over SSH, for installation admins. A password or passphrase is read from
/// stdin, never from the command line (where a shell history or <c>ps</c> would keep it).
/// </summary>
public static class ServerCommands
{
    public static Command Build()
    {
        var server = new Command("server", """
            Machines Kennel reaches over SSH to make workers of. For admins of the 'default' workspace.

              printf %s "$PASSWORD" | kennel server test 65.108.10.170 --password-stdin
              kennel server test 10.0.0.1 --port 2222 --user admin --key-file ~/.ssh/id_ed25519
            """);
        server.Subcommands.Add(Test());
        server.Subcommands.Add(Add());
        server.Subcommands.Add(AddEc2());
        server.Subcommands.Add(List());
        server.Subcommands.Add(Steps());
        server.Subcommands.Add(Delete());
        return server;
    }

    /// <summary>The options both test and add take: how to reach and log in to the machine.</summary>
    private sealed class LoginOptions
    {
        public Argument<string> Address { get; } = new("address") { Description = "The machine's host name or IP address." };
        public Option<int?> Port { get; } = new("--port") { Description = "The SSH port (default 22)." };
        public Option<string?> User { get; } = new("--user") { Description = "The user to log in as (default root): root, or a user with passwordless sudo." };
        public Option<string?> KeyFile { get; } = new("--key-file") { Description = "A private key file to log in with (at most 16 KiB)." };
        public Option<bool> PasswordStdin { get; } = new("--password-stdin") { Description = "Log in with the password read from stdin." };
        public Option<bool> PassphraseStdin { get; } = new("--passphrase-stdin") { Description = "Read the --key-file's passphrase from stdin." };
        public Option<string?> HostKey { get; } = new("--expected-host-key") { Description = "The host key fingerprint you expect (SHA256:…, as 'ssh-keygen -lf' prints it)." };
        public Option<int?> Timeout { get; } = new("--timeout") { Description = "Seconds to wait for the server to answer (1-60, default 10)." };

        public void AddTo(Command command)
        {
            command.Arguments.Add(Address);
            foreach (var option in new Option[] { Port, User, KeyFile, PasswordStdin, PassphraseStdin, HostKey, Timeout })
            {
                command.Options.Add(option);
            }
        }

        public async Task<T> ReadAsync<T>(ParseResult parse, T request, CancellationToken cancellationToken)
            where T : TestConnectionRequest
        {
            var key = parse.GetValue(KeyFile);
            if (parse.GetValue(PasswordStdin) == (key is not null))
            {
                throw new CliException("Give exactly one of --password-stdin or --key-file.", ExitCodes.Usage);
            }
            if (parse.GetValue(PassphraseStdin) && key is null)
            {
                throw new CliException("--passphrase-stdin goes with --key-file.", ExitCodes.Usage);
            }
            var fromStdin = parse.GetValue(PasswordStdin) || parse.GetValue(PassphraseStdin) ? await ReadStdinAsync(cancellationToken) : null;
            return request with
            {
                Address = parse.GetValue(Address),
                Port = parse.GetValue(Port),
                Username = parse.GetValue(User),
                Password = key is null ? fromStdin : null,
                PrivateKey = key is null ? null : await ReadKeyAsync(key, cancellationToken),
                Passphrase = key is null ? null : fromStdin,
                ExpectedHostKey = parse.GetValue(HostKey),
                TimeoutSeconds = parse.GetValue(Timeout),
            };
        }
    }

    private static Command Test()
    {
        var login = new LoginOptions();
        var json = CliOptions.Json();
        var test = new Command("test",
            "Log in to a machine over SSH and report whether it can become a worker: its host key, OS, architecture, privileges, bubblewrap, " +
            "cgroups, memory, disk and CPUs. Changes nothing on the machine. Exits 1 when it cannot.")
        {
            json,
        };
        login.AddTo(test);
        test.SetAction(async (parse, cancellationToken) =>
        {
            var request = await login.ReadAsync(parse, new TestConnectionRequest(), cancellationToken);
            using var client = KennelClient.FromEnvironment();
            var result = await client.PostAsync("v1/servers/test", KennelClient.Json(request, KennelJson.Default.TestConnectionRequest),
                KennelJson.Default.ConnectionTest, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(result, KennelJson.Default.ConnectionTest);
            }
            else
            {
                Console.Out.WriteLine(ServerText.Of(result));
            }
            return result.Ok ? ExitCodes.Ok : ExitCodes.Error;
        });
        return test;
    }

    private static Command Add()
    {
        var login = new LoginOptions();
        var name = new Option<string?>("--name") { Description = "The server's name, and its worker's (default: the address)." };
        var keep = new Option<bool>("--keep-credential") { Description = "Keep the password or key, encrypted, after the bootstrap (default: forget it)." };
        var url = new Option<string?>("--control-plane-url") { Description = "The URL at which the machine reaches this control plane (default: KENNEL_EXTERNAL_URL)." };
        var json = CliOptions.Json();
        var add = new Command("add",
            "Make a machine a worker over SSH. Answers at once (status provisioning); the bootstrap goes on in the control plane: follow it " +
            "with 'kennel server list' or 'kennel server steps ID'.")
        {
            name, keep, url, json,
        };
        login.AddTo(add);
        add.SetAction(async (parse, cancellationToken) =>
        {
            var request = await login.ReadAsync(parse, new AddServerRequest
            {
                Name = parse.GetValue(name),
                KeepCredential = parse.GetValue(keep),
                ControlPlaneUrl = parse.GetValue(url),
            }, cancellationToken);
            using var client = KennelClient.FromEnvironment();
            var server = await client.PostAsync("v1/servers", KennelClient.Json(request, KennelJson.Default.AddServerRequest), KennelJson.Default.Server, cancellationToken);
            Print(parse.GetValue(json), server);
            return ExitCodes.Ok;
        });
        return add;
    }

    private static Command AddEc2()
    {
        var region = new Option<string>("--region") { Description = "The AWS region, e.g. eu-central-1.", Required = true };
        var type = new Option<string?>("--instance-type") { Description = "The EC2 instance type (default t3.small)." };
        var architecture = new Option<string?>("--architecture") { Description = "x86_64 or arm64 (default: from the instance type)." };
        var ami = new Option<string?>("--ami") { Description = "The AMI (default: the newest Debian 12 for the architecture)." };
        var subnet = new Option<string?>("--subnet") { Description = "The subnet to launch in (default: the region's default VPC)." };
        var user = new Option<string?>("--user") { Description = "The AMI's login user (default admin, Debian's)." };
        var sshFrom = new Option<string?>("--ssh-from") { Description = "The one address SSH is opened to (default: the control plane URL's host)." };
        var keyId = new Option<string?>("--access-key-id-secret") { Description = "The workspace secret holding the AWS access key id (default AWS_ACCESS_KEY_ID)." };
        var secretKey = new Option<string?>("--secret-access-key-secret") { Description = "The workspace secret holding the AWS secret access key (default AWS_SECRET_ACCESS_KEY)." };
        var name = new Option<string?>("--name") { Description = "The server's name, and its worker's." };
        var url = new Option<string?>("--control-plane-url") { Description = "The URL at which the instance reaches this control plane (default: KENNEL_EXTERNAL_URL)." };
        var json = CliOptions.Json();
        var add = new Command("add-ec2",
            "Launch an EC2 instance and make it a worker: a key pair and a security group open to SSH from one address only, the instance " +
            "(tagged), then the same bootstrap as 'add'. A failed launch cleans up what it created. Answers at once; follow it with 'kennel server steps ID'.")
        {
            region, type, architecture, ami, subnet, user, sshFrom, keyId, secretKey, name, url, json,
        };
        add.SetAction(async (parse, cancellationToken) =>
        {
            var request = new AddServerEc2Request
            {
                Region = parse.GetValue(region),
                InstanceType = parse.GetValue(type),
                Architecture = parse.GetValue(architecture),
                Ami = parse.GetValue(ami),
                SubnetId = parse.GetValue(subnet),
                Username = parse.GetValue(user),
                SshFrom = parse.GetValue(sshFrom),
                AccessKeyIdSecret = parse.GetValue(keyId),
                SecretAccessKeySecret = parse.GetValue(secretKey),
                Name = parse.GetValue(name),
                ControlPlaneUrl = parse.GetValue(url),
            };
            using var client = KennelClient.FromEnvironment();
            var server = await client.PostAsync("v1/servers/ec2", KennelClient.Json(request, KennelJson.Default.AddServerEc2Request), KennelJson.Default.Server,
                cancellationToken);
            Print(parse.GetValue(json), server);
            return ExitCodes.Ok;
        });
        return add;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List servers with their status, last step, host key and worker.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var servers = await client.GetAsync("v1/servers", KennelJson.Default.ServerList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(servers, KennelJson.Default.ServerList);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "NAME", "ADDRESS", "STATUS", "WORKER", "LAST STEP");
            foreach (var s in servers.Items)
            {
                table.Add(s.Id, s.Name, s.Cloud?.InstanceId is { } instance ? $"{instance} {s.Address}" : $"{s.Address}:{s.Port}", s.Error is { } e ? $"{s.Status} ({e.Code})" : s.Status,
                    s.Worker is { } w ? $"{w.Id} {w.Health}" : "-", s.LastStep?.Message ?? "-");
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Steps()
    {
        var id = new Argument<string>("id") { Description = "The server id (srv_…)." };
        var json = CliOptions.Json();
        var steps = new Command("steps", "Show every step of a server's bootstrap, in order.") { id, json };
        steps.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var log = await client.GetAsync($"v1/servers/{Uri.EscapeDataString(parse.GetValue(id)!)}/steps", KennelJson.Default.ServerSteps, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(log, KennelJson.Default.ServerSteps);
                return ExitCodes.Ok;
            }
            foreach (var step in log.Items)
            {
                Console.Out.WriteLine($"{step.At:u}  {step.Status,-13}  {step.Message}");
            }
            return ExitCodes.Ok;
        });
        return steps;
    }

    private static Command Delete()
    {
        var id = new Argument<string>("id") { Description = "The server id (srv_…)." };
        var json = CliOptions.Json();
        var skipDrain = new Option<bool>("--skip-drain") { Description = "Cancel the sessions the server's worker runs now, without a grace period." };
        var grace = new Option<int?>("--grace") { Description = $"Seconds the running sessions have to finish before they are cancelled (0-{ServerService.MaxGraceSeconds}, default {ServerService.DefaultGraceSeconds})." };
        var delete = new Command("delete", """
            Remove a server. Its worker first takes no new sessions; those it runs have the grace period to finish, then are cancelled.
            The worker service is stopped on the machine when the credential was kept, and the worker removed. Follow it with 'kennel server steps'.
            """) { id, skipDrain, grace, json };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = (parse.GetValue(skipDrain) ? "?skipDrain=true" : "?skipDrain=false") +
                (parse.GetValue(grace) is { } seconds ? $"&graceSeconds={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "");
            var server = await client.DeleteAsync($"v1/servers/{Uri.EscapeDataString(parse.GetValue(id)!)}{query}", KennelJson.Default.Server, cancellationToken);
            Print(parse.GetValue(json), server);
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static void Print(bool json, Server server)
    {
        if (json)
        {
            CliOptions.PrintJson(server, KennelJson.Default.Server);
        }
        else
        {
            Console.Out.WriteLine(ServerText.Of(server));
        }
    }

    private static async Task<string> ReadStdinAsync(CancellationToken cancellationToken)
    {
        if (!Console.IsInputRedirected)
        {
            await Console.Error.WriteLineAsync("Type it, then Ctrl+D on a line of its own:");
        }
        var text = await Console.In.ReadToEndAsync(cancellationToken);
        text = text.EndsWith('\n') ? text[..^1] : text;
        return text.EndsWith('\r') ? text[..^1] : text;
    }

    private static async Task<string> ReadKeyAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new CliException($"No key file at {path}.", ExitCodes.Usage);
        }
        // The server refuses larger keys anyway; reading no more keeps a wrong path (a disk image) from filling memory.
        return file.Length > SshTarget.MaxPrivateKeyBytes
            ? throw new CliException($"{path} is larger than {SshTarget.MaxPrivateKeyBytes / 1024} KiB; no SSH private key is that large.", ExitCodes.Usage)
            : await File.ReadAllTextAsync(path, cancellationToken);
    }
}
