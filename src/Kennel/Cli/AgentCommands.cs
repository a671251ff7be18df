using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;

namespace Kennel.Cli;

/// <summary><c>kennel agent list</c> and <c>kennel model list</c>: what the workspace's config and the installation provide.</summary>
public static class AgentCommands
{
    public static Command BuildAgents()
    {
        var agent = new Command("agent", "The workspace's agents. Change them with kennel config set agents.NAME …");
        var json = CliOptions.Json();
        var list = new Command("list", "List the agents: main (always there) and those the config adds. Needs mcp:read.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var agents = await client.GetAsync("v1/agents", KennelJson.Default.AgentList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(agents, KennelJson.Default.AgentList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "MODEL", "THINKING", "TOOLS");
            foreach (var item in agents.Items)
            {
                table.Add(item.Name, item.Model, item.Thinking, item.Tools.Count == 0 ? "-" : string.Join(",", item.Tools));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        agent.Subcommands.Add(list);
        return agent;
    }

    public static Command BuildModels()
    {
        var model = new Command("model", "The model catalogue. Override or add entries with kennel config set 'models[\"provider/model\"]' …");
        var json = CliOptions.Json();
        var list = new Command("list", "List the models with context window, thinking, prices (USD per million tokens) and whether a provider is configured. Needs mcp:read.") { json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var models = await client.GetAsync("v1/models", KennelJson.Default.ModelList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(models, KennelJson.Default.ModelList);
                return ExitCodes.Ok;
            }
            var table = new Table("MODEL", "CONTEXT", "THINKING", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "AVAILABLE");
            foreach (var item in models.Items)
            {
                table.Add(item.Id, item.ContextWindow.ToString(CultureInfo.InvariantCulture), item.Thinking ? "yes" : "no", Price(item.Prices.Input),
                    Price(item.Prices.Output), Price(item.Prices.CacheRead), Price(item.Prices.CacheWrite), item.Available ? "yes" : "no");
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        model.Subcommands.Add(list);
        return model;
    }

    private static string Price(decimal usd) => usd.ToString("0.###", CultureInfo.InvariantCulture);
}
