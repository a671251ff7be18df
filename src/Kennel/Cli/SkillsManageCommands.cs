using System.CommandLine;
using System.Globalization;
using Kennel.Contracts;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Mcp.AgentTools;

namespace Kennel.Cli;

/// <summary><c>kennel skills list|show|browse|install|upgrade|uninstall|registries</c>: a workspace's skills over <c>/v1/skills</c>.</summary>
public static class SkillsManageCommands
{
    public static void AddTo(Command skills)
    {
        skills.Subcommands.Add(List());
        skills.Subcommands.Add(Show());
        skills.Subcommands.Add(Browse());
        skills.Subcommands.Add(Install());
        skills.Subcommands.Add(Upgrade());
        skills.Subcommands.Add(Uninstall());
        skills.Subcommands.Add(Registries());
    }

    private static Argument<string> Name() => new("name") { Description = "The skill's name." };

    private static string Path(ParseResult parse, Argument<string> name, string suffix = "") =>
        $"v1/skills/{Uri.EscapeDataString(parse.GetValue(name)!)}{suffix}";

    private static Command List()
    {
        var json = CliOptions.Json();
        var list = new Command("list", "List the installed skills: version, registry, pinned SHA-256, verdict, the agents that have each, and eligibility.")
        {
            json,
        };
        list.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var skills = await client.GetAsync("v1/skills", KennelJson.Default.SkillList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(skills, KennelJson.Default.SkillList);
                return ExitCodes.Ok;
            }
            var table = new Table("NAME", "VERSION", "REGISTRY", "SHA256", "VERDICT", "AGENTS", "ELIGIBLE");
            foreach (var skill in skills.Skills)
            {
                table.Add(skill.Name, skill.Version, skill.Registry, skill.Sha256[..12], skill.Verdict, string.Join(",", skill.Agents),
                    skill.Eligible ? "yes" : "no: " + string.Join("; ", skill.Unmet));
            }
            table.Write(Console.Out);
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Show()
    {
        var name = Name();
        var json = CliOptions.Json();
        var show = new Command("show", "Show an installed skill: its pin, verdict and acknowledged warnings, requirements and agents.") { name, json };
        show.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var skill = await client.GetAsync(Path(parse, name), KennelJson.Default.InstalledSkill, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(skill, KennelJson.Default.InstalledSkill);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine(SkillToolText.Installed(skill));
            Console.Out.WriteLine($"  sha256 {skill.Sha256}, {skill.Size.ToString(CultureInfo.InvariantCulture)} bytes, {skill.Files} files, from {skill.RegistryUrl}");
            foreach (var finding in skill.Findings)
            {
                Console.Out.WriteLine($"  warning {finding.Code}{(finding.Path is null ? "" : $" ({finding.Path})")}: {finding.Message}");
            }
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Browse()
    {
        var query = new Argument<string?>("query") { Description = "Words to search for; none lists every skill.", Arity = ArgumentArity.ZeroOrOne };
        var name = new Option<string?>("--name") { Description = "One skill's detail, with every version." };
        var registry = new Option<string?>("--registry") { Description = "Only this registry." };
        var limit = new Option<int?>("--limit") { Description = "At most this many skills (1-50, default 20)." };
        var json = CliOptions.Json();
        var browse = new Command("browse", """
            Search the workspace's registries, or show one skill's versions with --name.

              kennel skills browse pdf
              kennel skills browse --name pdf-tools
            """) { query, name, registry, limit, json };
        browse.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var path = "v1/skills/browse" + CliOptions.Query(("query", parse.GetValue(query)), ("name", parse.GetValue(name)),
                ("registry", parse.GetValue(registry)), ("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture)));
            var result = await client.GetAsync(path, KennelJson.Default.SkillBrowseResult, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(result, KennelJson.Default.SkillBrowseResult);
                return ExitCodes.Ok;
            }
            foreach (var skill in result.Skills)
            {
                Console.Out.WriteLine(SkillToolText.Browsed(skill));
            }
            if (result.Skills.Count == 0)
            {
                Console.Out.WriteLine("No skill matches.");
            }
            foreach (var missing in result.Unavailable)
            {
                await Console.Error.WriteLineAsync("Not searched: " + SkillToolText.Registry(missing));
            }
            return ExitCodes.Ok;
        });
        return browse;
    }

    private static Option<bool> Acknowledge() => new("--acknowledge-warnings")
    {
        Description = "Install although the inspection warns (the refusal lists the warnings; read them first). Needs a trusted registry.",
    };

    private static Command Install()
    {
        var name = Name();
        var version = new Option<string?>("--version") { Description = "A version the registry lists; the newest by default." };
        var registry = new Option<string?>("--registry") { Description = "The registry to install from; by default the first that has the skill." };
        var acknowledge = Acknowledge();
        var json = CliOptions.Json();
        var install = new Command("install", """
            Install a skill from a registry, pinned to its version and SHA-256. The archive is checked before anything
            is written: hash, sizes, paths and links, SKILL.md, and a scan for known attacks. Needs mcp:write.
            """) { name, version, registry, acknowledge, json };
        install.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var request = new InstallSkillRequest
            {
                Name = parse.GetValue(name),
                Version = parse.GetValue(version),
                Registry = parse.GetValue(registry),
                AcknowledgeWarnings = parse.GetValue(acknowledge),
            };
            var result = await client.PostAsync("v1/skills", KennelClient.Json(request, KennelJson.Default.InstallSkillRequest),
                KennelJson.Default.SkillInstallResult, cancellationToken);
            return Print(result, parse.GetValue(json));
        });
        return install;
    }

    private static Command Upgrade()
    {
        var name = Name();
        var version = new Option<string?>("--version") { Description = "The version to move to; the newest by default." };
        var acknowledge = Acknowledge();
        var json = CliOptions.Json();
        var upgrade = new Command("upgrade", "Move an installed skill to another version of its registry, checked as an install is.")
        {
            name, version, acknowledge, json,
        };
        upgrade.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var request = new UpgradeSkillRequest { Version = parse.GetValue(version), AcknowledgeWarnings = parse.GetValue(acknowledge) };
            var result = await client.PostAsync(Path(parse, name, "/upgrade"), KennelClient.Json(request, KennelJson.Default.UpgradeSkillRequest),
                KennelJson.Default.SkillInstallResult, cancellationToken);
            return Print(result, parse.GetValue(json));
        });
        return upgrade;
    }

    private static Command Uninstall()
    {
        var name = Name();
        var uninstall = new Command("uninstall", "Uninstall a skill. Its pins stay: reinstalling a version must bring the same bytes.") { name };
        uninstall.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            await client.DeleteAsync(Path(parse, name), cancellationToken);
            Console.Out.WriteLine($"Uninstalled {parse.GetValue(name)}.");
            return ExitCodes.Ok;
        });
        return uninstall;
    }

    private static Command Registries()
    {
        var json = CliOptions.Json();
        var registries = new Command("registries", "List the workspace's skill registries, their trust, and whether each answered on its last fetch.")
        {
            json,
        };
        registries.SetAction(async (parse, cancellationToken) =>
        {
            using var client = KennelClient.FromEnvironment();
            var list = await client.GetAsync("v1/skills/registries", KennelJson.Default.SkillRegistryList, cancellationToken);
            if (parse.GetValue(json))
            {
                CliOptions.PrintJson(list, KennelJson.Default.SkillRegistryList);
                return ExitCodes.Ok;
            }
            foreach (var registry in list.Registries)
            {
                Console.Out.WriteLine(SkillToolText.Registry(registry));
            }
            return ExitCodes.Ok;
        });
        return registries;
    }

    private static int Print(SkillInstallResult result, bool json)
    {
        if (json)
        {
            CliOptions.PrintJson(result, KennelJson.Default.SkillInstallResult);
            return ExitCodes.Ok;
        }
        Console.Out.WriteLine($"{result.Outcome}{(result.PreviousVersion is { } previous && previous != result.Skill.Version ? $" (was {previous})" : "")}: " +
            SkillToolText.Installed(result.Skill));
        return ExitCodes.Ok;
    }
}
