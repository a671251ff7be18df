using System.CommandLine;
using Kennel.Cli;
using Kennel.ControlPlane.Hosting;

var root = new RootCommand("""
    Kennel: a self-hosted control plane that runs workloads in isolated sandboxes on a fleet of workers.

    Start here:
      kennel serve                                   run the control plane with an embedded worker
      kennel session run -- echo hello               run a workload and stream its output
      kennel daemon create nightly --cron @daily --script 'make report'   run one on a schedule
      kennel chat "say hello"                        talk to the workspace's agent (OPENAI_BASE_URL or OPENAI_API_KEY)
    The CLI talks to KENNEL_URL (default http://localhost:4000) with KENNEL_API_KEY.
    """);
root.Subcommands.Add(ServeCommand.Build());
root.Subcommands.Add(WorkerCommands.Build());
root.Subcommands.Add(ServerCommands.Build());
root.Subcommands.Add(SessionCommands.Build());
root.Subcommands.Add(ApiKeyCommands.Build());
root.Subcommands.Add(DaemonCommands.Build());
root.Subcommands.Add(SecretCommands.Build());
root.Subcommands.Add(SnapshotCommands.Build());
root.Subcommands.Add(QuotaCommands.Build());
root.Subcommands.Add(ConfigCommands.Build());
root.Subcommands.Add(AgentCommands.BuildAgents());
root.Subcommands.Add(AgentCommands.BuildModels());
root.Subcommands.Add(ChatCommands.BuildChat());
root.Subcommands.Add(ChatCommands.BuildConversation());
root.Subcommands.Add(UsageCommands.Build());
root.Subcommands.Add(CronCommands.Build());
root.Subcommands.Add(SkillsCommands.Build());
root.Subcommands.Add(ChannelCommands.Build());
root.Subcommands.Add(UserCommands.Build());
root.Subcommands.Add(UserCommands.BuildOAuth());
root.Subcommands.Add(McpCommand.Build());

try
{
    // Errors are reported below in one line; the library's handler would print a stack trace.
    // No response files: '@hourly' is a cron macro, not a file of arguments.
    return await root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CliException failure)
{
    await Console.Error.WriteLineAsync($"kennel: {failure.Message}");
    return failure.ExitCode;
}
catch (SettingsException misconfigured)
{
    await Console.Error.WriteLineAsync($"kennel: {misconfigured.Message}");
    return ExitCodes.Usage;
}
catch (OperationCanceledException)
{
    return ExitCodes.Cancelled;
}
catch (Exception unexpected) when (unexpected is IOException or UnauthorizedAccessException or System.Data.Common.DbException or HttpRequestException)
{
    // The environment failed us (a file, the database, the network): say what, in one line, without a stack trace.
    await Console.Error.WriteLineAsync($"kennel: {unexpected.Message}");
    return ExitCodes.Error;
}
