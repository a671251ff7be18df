using System.CommandLine;
using Kennel.Contracts;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Servers;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel server test</c>: machines reached over SSH, for installation admins. A password or passphrase is read from
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
        return server;
    }

    private static Command Test()
    {
        var address = new Argument<string>("address") { Description = "The machine's host name or IP address." };
        var port = new Option<int?>("--port") { Description = "The SSH port (default 22)." };
        var user = new Option<string?>("--user") { Description = "The user to log in as (default root): root, or a user with passwordless sudo." };
        var keyFile = new Option<string?>("--key-file") { Description = "A private key file to log in with (at most 16 KiB)." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Log in with the password read from stdin." };
        var passphraseStdin = new Option<bool>("--passphrase-stdin") { Description = "Read the --key-file's passphrase from stdin." };
        var hostKey = new Option<string?>("--expected-host-key") { Description = "The host key fingerprint you expect (SHA256:…, as 'ssh-keygen -lf' prints it)." };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait for the server to answer (1-60, default 10)." };
        var json = CliOptions.Json();
        var test = new Command("test",
            "Log in to a machine over SSH and report whether it can become a worker: its host key, OS, architecture, privileges, bubblewrap, " +
            "cgroups, memory, disk and CPUs. Changes nothing on the machine. Exits 1 when it cannot.")
        {
            address, port, user, keyFile, passwordStdin, passphraseStdin, hostKey, timeout, json,
        };
        test.SetAction(async (parse, cancellationToken) =>
        {
            var key = parse.GetValue(keyFile);
            if (parse.GetValue(passwordStdin) == (key is not null))
            {
                throw new CliException("Give exactly one of --password-stdin or --key-file.", ExitCodes.Usage);
            }
            if (parse.GetValue(passphraseStdin) && key is null)
            {
                throw new CliException("--passphrase-stdin goes with --key-file.", ExitCodes.Usage);
            }
            var fromStdin = parse.GetValue(passwordStdin) || parse.GetValue(passphraseStdin) ? await ReadStdinAsync(cancellationToken) : null;
            var request = new TestConnectionRequest
            {
                Address = parse.GetValue(address),
                Port = parse.GetValue(port),
                Username = parse.GetValue(user),
                Password = key is null ? fromStdin : null,
                PrivateKey = key is null ? null : await ReadKeyAsync(key, cancellationToken),
                Passphrase = key is null ? null : fromStdin,
                ExpectedHostKey = parse.GetValue(hostKey),
                TimeoutSeconds = parse.GetValue(timeout),
            };
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
