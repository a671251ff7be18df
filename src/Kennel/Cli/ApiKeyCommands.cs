using System.CommandLine;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;

namespace Kennel.Cli;

/// <summary><c>kennel apikey create|list|revoke</c>. Needs an admin key (<c>mcp:admin</c>).</summary>
public static class ApiKeyCommands
{
    public static Command Build()
    {
        var apikey = new Command("apikey", "Create, list and revoke API keys (needs an mcp:admin key).");
        apikey.Subcommands.Add(Create());
        apikey.Subcommands.Add(List());
        apikey.Subcommands.Add(Revoke());
        return apikey;
    }

    private static Command Create()
    {
        var name = new Option<string?>("--name") { Description = "A label to recognise the key by." };
        var workspace = new Option<string?>("--workspace") { Description = "Workspace the key acts in (created if new; default: the calling key's)." };
        var scopes = new Option<string?>("--scopes") { Description = "Comma-separated: mcp:read, mcp:chat, mcp:write, mcp:admin (default mcp:read,mcp:chat)." };
        var json = CliOptions.Json();
        var create = new Command("create", "Create an API key. The key is printed once and never again.") { name, workspace, scopes, json };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var request = new CreateApiKeyRequest
            {
                Name = parse.GetValue(name),
                Workspace = parse.GetValue(workspace),
                Scopes = parse.GetValue(scopes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            using var client = KennelClient.FromEnvironment();
            var created = await client.PostAsync("v1/apikeys", KennelClient.Json(request, KennelJson.Default.CreateApiKeyRequest),
                KennelJson.Default.CreatedApiKey, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(created, KennelJson.Default.CreatedApiKey);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine(created.Key);
            await Console.Error.WriteLineAsync(
                $"Created {created.ApiKey.Id} in workspace '{created.ApiKey.Workspace}' with scopes {string.Join(' ', created.ApiKey.Scopes)}. " +
                "Store the key now: it is not shown again.");
            return ExitCodes.Ok;
        });
        return create;
    }

    private static Command List()
    {
        var workspace = new Option<string?>("--workspace") { Description = "List another workspace's keys (installation admins only)." };
        var json = CliOptions.Json();
        var list = new Command("list", "List API keys (never their secrets).") { workspace, json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = parse.GetValue(workspace) is { } w ? $"?workspace={Uri.EscapeDataString(w)}" : "";
            var keys = await client.GetAsync($"v1/apikeys{query}", KennelJson.Default.IReadOnlyListApiKey, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(keys, KennelJson.Default.IReadOnlyListApiKey);
                return ExitCodes.Ok;
            }
            var table = new Table("ID", "NAME", "WORKSPACE", "SCOPES", "CREATED", "LAST USED", "REVOKED");
            foreach (var key in keys)
            {
                table.Add(key.Id, key.Name, key.Workspace, string.Join(',', key.Scopes), CliOptions.Ago(key.CreatedAt), CliOptions.Ago(key.LastUsedAt),
                    key.RevokedAt is null ? "-" : CliOptions.Ago(key.RevokedAt));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("id") { Description = "The key's id (key_...), as 'apikey list' shows it." };
        var workspace = new Option<string?>("--workspace") { Description = "The key's workspace, if not the calling key's." };
        var json = CliOptions.Json();
        var revoke = new Command("revoke", "Revoke an API key. It stops working at once.") { id, workspace, json };
        revoke.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var query = parse.GetValue(workspace) is { } w ? $"?workspace={Uri.EscapeDataString(w)}" : "";
            var key = await client.PostAsync($"v1/apikeys/{Uri.EscapeDataString(parse.GetValue(id)!)}/revoke{query}", null,
                KennelJson.Default.ApiKey, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(key, KennelJson.Default.ApiKey);
            }
            else
            {
                Console.Out.WriteLine($"{key.Id} revoked");
            }
            return ExitCodes.Ok;
        });
        return revoke;
    }
}
