using System.CommandLine;
using Kennel.ControlPlane.Skills;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.Cli;

/// <summary><c>kennel skills index</c>: builds a static skill registry (docs/skills-registry.md) from skill folders.</summary>
public static class SkillsCommands
{
    public static Command Build()
    {
        var skills = new Command("skills", """
            Agent skills: folders with a SKILL.md that agents install from registries.

              kennel config set skills.registries.team '{"url": "https://skills.example.com/", "trust": "trusted"}'
              kennel skills browse pdf                                          search the workspace's registries
              kennel skills install pdf-tools                                   checked, pinned, then installed
              kennel skills list                                                version, hash, verdict, agents, eligibility
              kennel skills upgrade pdf-tools; kennel skills uninstall pdf-tools
              kennel skills index ./skills --out ./public                       build a registry to serve as static files
            Reading needs mcp:read; install, upgrade and uninstall need mcp:write. docs/skills.md has the details,
            docs/skills-registry.md the registry format and how to host one.
            """);
        SkillsManageCommands.AddTo(skills);
        skills.Subcommands.Add(Index());
        return skills;
    }

    private static Command Index()
    {
        var directory = new Argument<string>("dir") { Description = "The folder holding one folder per skill, each with a SKILL.md." };
        var output = new Option<string>("--out") { Description = "Where to write index.json and archives/ (default: ./registry).", DefaultValueFactory = _ => "registry" };
        var baseUrl = new Option<string?>("--base-url")
        {
            Description = "Where archives/ will be served, when not beside index.json: the index then names them by absolute URL.",
        };
        var publisher = new Option<string?>("--publisher") { Description = "The publisher to name in the index (a team or an organisation)." };
        var index = new Command("index", """
            Build a registry from skill folders: one reproducible archive per skill (the same folder gives the same SHA-256)
            and index.json. Each SKILL.md needs a name, a description and a semantic version ('version: 1.0.0'). Every
            archive is inspected as an install would inspect it, and the command refuses (exit 1, writing nothing) when a
            skill would be blocked; warnings are printed. Versions already in an index at --out are kept, and one that
            reappears with other content is refused: give a changed skill a new version.
            """)
        {
            directory, output, baseUrl, publisher,
        };
        index.SetAction(parse =>
        {
            var dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir))
            {
                throw new CliException($"'{dir}' is not a folder.", ExitCodes.Usage);
            }
            Uri? cdn = null;
            if (parse.GetValue(baseUrl) is { } text && (!Uri.TryCreate(text, UriKind.Absolute, out cdn) || cdn.Scheme is not ("https" or "http")))
            {
                throw new CliException($"--base-url must be an absolute https:// or http:// URL, not '{text}'.", ExitCodes.Usage);
            }
            var built = SkillRegistryBuilder.Build(dir, parse.GetValue(output)!, cdn, parse.GetValue(publisher), DateTimeOffset.UtcNow);
            foreach (var skill in built.Skills)
            {
                foreach (var warning in skill.Inspection.Reasons.Where(reason => reason.Severity == SkillVerdict.Warn))
                {
                    Console.Error.WriteLine($"warning: {skill.Name} {skill.Version}: {warning.Code}{(warning.Path is null ? "" : $" in {warning.Path}")}: {warning.Message}");
                }
            }
            if (built.Refusals.Count > 0)
            {
                foreach (var refusal in built.Refusals)
                {
                    Console.Error.WriteLine($"kennel: {refusal}");
                }
                Console.Error.WriteLine("kennel: nothing was written.");
                return ExitCodes.Error;
            }
            var table = new Table("NAME", "VERSION", "VERDICT", "SIZE", "SHA-256");
            foreach (var skill in built.Skills)
            {
                table.Add(skill.Name, skill.Version, skill.Inspection.Verdict.ToString().ToLowerInvariant(), skill.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), skill.Sha256);
            }
            table.Write(Console.Out);
            Console.Out.WriteLine($"Wrote {built.IndexPath} and {built.Skills.Count} archive(s); serve its folder as static files.");
            return ExitCodes.Ok;
        });
        return index;
    }
}
