using System.CommandLine;
using Kennel.Contracts;
using Kennel.Contracts.Secrets;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel secret set|list|delete</c>: the workspace's secrets, which sessions and daemons name with <c>--secret</c>. A
/// value is read from stdin, never from the command line (where a shell history or <c>ps</c> would keep it).
/// </summary>
public static class SecretCommands
{
    public static Command Build()
    {
        var secret = new Command("secret", """
            Keep credentials that workloads see as environment variables, without anyone reading them back.

              printf %s "$GITHUB_TOKEN" | kennel secret set GITHUB_TOKEN
              kennel session run --secret GITHUB_TOKEN -- gh pr list
            Values are encrypted at rest and never shown again, not even to the key that set them.
            """);
        secret.Subcommands.Add(Set());
        secret.Subcommands.Add(List());
        secret.Subcommands.Add(Delete());
        return secret;
    }

    private static Command Set()
    {
        var name = Name();
        var json = CliOptions.Json();
        var set = new Command("set",
            "Create or replace a secret with the value read from stdin (up to 64 KiB). One trailing newline is removed, so " +
            "'echo \"$TOKEN\" | kennel secret set NAME' and 'printf %s \"$TOKEN\" | …' store the same value. Needs mcp:write.")
        {
            name, json,
        };
        set.SetAction(async (parse, cancellationToken) =>
        {
            if (!Console.IsInputRedirected)
            {
                await Console.Error.WriteLineAsync("Type the value, then Ctrl+D on a line of its own:");
            }
            var value = WithoutTrailingNewline(await Console.In.ReadToEndAsync(cancellationToken));
            if (value.Length == 0)
            {
                throw new CliException("No value on stdin. Pipe it in: printf %s \"$VALUE\" | kennel secret set NAME", ExitCodes.Usage);
            }
            using var client = KennelClient.FromEnvironment();
            var secret = await client.PutAsync($"v1/secrets/{Uri.EscapeDataString(parse.GetValue(name)!)}",
                KennelClient.Json(new SetSecretRequest { Value = value }, KennelJson.Default.SetSecretRequest), KennelJson.Default.Secret, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(secret, KennelJson.Default.Secret);
            }
            else
            {
                Console.Out.WriteLine($"{secret.Name} set in workspace '{secret.Workspace}'");
            }
            return ExitCodes.Ok;
        });
        return set;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List the workspace's secrets by name, with when each was created and last set (never their values).") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var secrets = await client.GetAsync("v1/secrets", KennelJson.Default.SecretList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(secrets, KennelJson.Default.SecretList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "CREATED", "UPDATED");
            foreach (var secret in secrets.Items)
            {
                table.Add(secret.Name, CliOptions.Ago(secret.CreatedAt), CliOptions.Ago(secret.UpdatedAt));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Delete()
    {
        var name = Name();
        var json = CliOptions.Json();
        var delete = new Command("delete", "Delete a secret. Sessions still queued that name it will fail (secret_not_found) instead of running.") { name, json };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            var secret = parse.GetValue(name)!;
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync($"v1/secrets/{Uri.EscapeDataString(secret)}", cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(new DeletedSecret(secret, true), KennelJson.Default.DeletedSecret);
            }
            else
            {
                Console.Out.WriteLine($"{secret} deleted");
            }
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static Argument<string> Name() =>
        new("name") { Description = "The secret's name, which is also the variable a workload sees: letters, digits and '_', not starting with a digit." };

    private static string WithoutTrailingNewline(string value) =>
        value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2] : value.EndsWith('\n') ? value[..^1] : value;
}
