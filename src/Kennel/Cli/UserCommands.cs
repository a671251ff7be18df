using System.CommandLine;
using Kennel.Contracts;
using Kennel.Contracts.Users;

namespace Kennel.Cli;

/// <summary>
/// <c>kennel user create|list|passwd|delete</c>: the accounts that sign in on the OAuth login page. Needs an admin key
/// of the default workspace. Passwords are read from stdin, never from the command line (where ps would show them).
/// </summary>
public static class UserCommands
{
    public static Command Build()
    {
        var user = new Command("user", "Create, list, re-password and delete the users who sign in to authorize MCP clients (needs an installation admin key).");
        user.Subcommands.Add(Create());
        user.Subcommands.Add(List());
        user.Subcommands.Add(SetRole());
        user.Subcommands.Add(Passwd());
        user.Subcommands.Add(Delete());
        user.Subcommands.Add(RevokeConsents());
        return user;
    }

    /// <summary><c>kennel oauth rotate-signing-key</c>: the OAuth server's one operator verb.</summary>
    public static Command BuildOAuth()
    {
        var oauth = new Command("oauth", "Operate the OAuth authorization server (needs an installation admin key).");
        var json = CliOptions.Json();
        var rotate = new Command("rotate-signing-key",
            "Start signing access tokens with a new ES256 key. Tokens signed by the old key stay valid until they expire.") { json };
        rotate.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var rotated = await client.PostAsync("v1/oauth/signing-keys/rotate", null, KennelJson.Default.SigningKeyRotation, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(rotated, KennelJson.Default.SigningKeyRotation);
            }
            else
            {
                Console.Out.WriteLine($"Access tokens are now signed by {rotated.Kid}");
            }
            return ExitCodes.Ok;
        });
        oauth.Subcommands.Add(rotate);
        return oauth;
    }

    private static Command Create()
    {
        var email = new Argument<string>("email") { Description = "The user's email, which is their login." };
        var passwordStdin = PasswordStdin();
        var workspace = new Option<string?>("--workspace") { Description = "Make the user a member of this workspace (created if new)." };
        var role = new Option<string?>("--role") { Description = "The role in that workspace: owner, admin, member (default) or viewer." };
        var json = CliOptions.Json();
        var create = new Command("create", "Create a user. Example: echo \"$PASSWORD\" | kennel user create ada@example.com --password-stdin --workspace team --role member")
        {
            email, passwordStdin, workspace, role, json,
        };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var request = new CreateUserRequest
            {
                Email = parse.GetValue(email),
                Password = await ReadPasswordAsync(parse.GetValue(passwordStdin), cancellationToken),
                Workspace = parse.GetValue(workspace),
                Role = parse.GetValue(role),
            };
            using var client = KennelClient.FromEnvironment();
            var created = await client.PostAsync("v1/users", KennelClient.Json(request, KennelJson.Default.CreateUserRequest), KennelJson.Default.User, cancellationToken);
            Print(created, parse.GetValue(json), $"Created user {created.Email} ({created.Id})");
            return ExitCodes.Ok;
        });
        return create;
    }

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List users and their workspace roles.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var users = await client.GetAsync("v1/users", KennelJson.Default.IReadOnlyListUser, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(users, KennelJson.Default.IReadOnlyListUser);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "EMAIL", "WORKSPACES", "CREATED");
            foreach (var user in users)
            {
                table.Add(user.Id, user.Email, Memberships(user), CliOptions.Ago(user.CreatedAt));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command SetRole()
    {
        var email = new Argument<string>("email") { Description = "The user's email." };
        var workspace = new Option<string>("--workspace") { Description = "The workspace (created if new).", Required = true };
        var role = new Option<string?>("--role") { Description = "owner, admin, member (default) or viewer." };
        var json = CliOptions.Json();
        var setRole = new Command("set-role", "Make a user a member of a workspace with a role, or change their role there.") { email, workspace, role, json };
        setRole.SetAction(async (parse, cancellationToken) =>
        {
            var request = new SetRoleRequest { Workspace = parse.GetValue(workspace), Role = parse.GetValue(role) };
            using var client = KennelClient.FromEnvironment();
            var user = await client.PostAsync($"v1/users/{Uri.EscapeDataString(parse.GetValue(email)!)}/memberships",
                KennelClient.Json(request, KennelJson.Default.SetRoleRequest), KennelJson.Default.User, cancellationToken);
            Print(user, parse.GetValue(json), $"{user.Email} updated");
            return ExitCodes.Ok;
        });
        return setRole;
    }

    private static Command Passwd()
    {
        var email = new Argument<string>("email") { Description = "The user's email." };
        var passwordStdin = PasswordStdin();
        var json = CliOptions.Json();
        var passwd = new Command("passwd", "Set a user's password. Example: echo \"$PASSWORD\" | kennel user passwd ada@example.com --password-stdin")
        {
            email, passwordStdin, json,
        };
        passwd.SetAction(async (parse, cancellationToken) =>
        {
            var request = new ChangePasswordRequest { Password = await ReadPasswordAsync(parse.GetValue(passwordStdin), cancellationToken) };
            using var client = KennelClient.FromEnvironment();
            var user = await client.PostAsync($"v1/users/{Uri.EscapeDataString(parse.GetValue(email)!)}/password",
                KennelClient.Json(request, KennelJson.Default.ChangePasswordRequest), KennelJson.Default.User, cancellationToken);
            Print(user, parse.GetValue(json), $"Password changed for {user.Email}");
            return ExitCodes.Ok;
        });
        return passwd;
    }

    private static Command Delete()
    {
        var email = new Argument<string>("email") { Description = "The user's email." };
        var delete = new Command("delete", "Delete a user. Every token they authorized stops working at once.") { email };
        delete.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync($"v1/users/{Uri.EscapeDataString(parse.GetValue(email)!)}", cancellationToken);
            Console.Out.WriteLine($"{parse.GetValue(email)} deleted");
            return ExitCodes.Ok;
        });
        return delete;
    }

    private static Command RevokeConsents()
    {
        var email = new Argument<string>("email") { Description = "The user's email." };
        var revoke = new Command("revoke-consents", "Forget every consent the user gave to MCP clients and revoke their tokens; each client must ask again.") { email };
        revoke.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync($"v1/users/{Uri.EscapeDataString(parse.GetValue(email)!)}/consents", cancellationToken);
            Console.Out.WriteLine($"Consents and tokens of {parse.GetValue(email)} revoked");
            return ExitCodes.Ok;
        });
        return revoke;
    }

    private static Option<bool> PasswordStdin() => new("--password-stdin") { Description = "Read the password from the first line of stdin (required)." };

    private static async Task<string> ReadPasswordAsync(bool fromStdin, CancellationToken cancellationToken)
    {
        if (!fromStdin)
        {
            throw new CliException("Pass --password-stdin and the password on stdin (it is never taken from the command line).", ExitCodes.Usage);
        }
        var line = await Console.In.ReadLineAsync(cancellationToken);
        return string.IsNullOrEmpty(line) ? throw new CliException("No password on stdin.", ExitCodes.Usage) : line;
    }

    private static string Memberships(User user) =>
        user.Memberships.Count == 0 ? "-" : string.Join(',', user.Memberships.Select(m => $"{m.Workspace}:{m.Role}"));

    private static void Print(User user, bool json, string text)
    {
        if (json)
        {
            CliOptions.PrintJson(user, KennelJson.Default.User);
        }
        else
        {
            Console.Out.WriteLine($"{text}; workspaces: {Memberships(user)}");
        }
    }
}
