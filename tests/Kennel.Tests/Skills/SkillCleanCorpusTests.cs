using System.Runtime.CompilerServices;
using Kennel.ControlPlane.Skills;

namespace Kennel.Tests.Skills;

/// <summary>Realistic skills that must come out clean, to keep the scan's false positives in check.</summary>
public sealed class SkillCleanCorpusTests
{
    public static TheoryData<string> Skills => new(Corpus.Keys);

    private static readonly Dictionary<string, Func<SkillArchive>> Corpus = new()
    {
        ["weather"] = () => new SkillArchive()
            .File("SKILL.md", """
                ---
                name: weather-report
                description: "Fetches today's forecast for a place: use when the user asks about the weather."
                version: 1.0.2
                requires:
                  programs: [curl, jq]
                  env: [WEATHER_API_KEY]
                ---
                # Weather report

                Run `scripts/forecast.sh <city>` and summarise the JSON it prints.
                """)
            .Directory("scripts")
            .File("scripts/forecast.sh", """
                #!/usr/bin/env bash
                set -euo pipefail
                curl -fsS -H "Authorization: Bearer ${WEATHER_API_KEY}" \
                  "https://api.weather.example.com/v1/forecast?q=$1" | jq '.days[0] | {high, low, summary}'
                """, SkillArchive.Executable),
        ["pdf-forms"] = () => new SkillArchive()
            .File("SKILL.md", """
                ---
                name: pdf-forms
                description: Fill PDF forms from a JSON file of field values.
                requires:
                  programs:
                    - python3
                ---
                Use `scripts/fill.py form.pdf values.json out.pdf`. Attachments are embedded as base64.
                """)
            .File("scripts/fill.py", """
                #!/usr/bin/env python3
                import base64, json, sys
                from pypdf import PdfReader, PdfWriter

                def main(form, values, out):
                    writer = PdfWriter(clone_from=PdfReader(form))
                    fields = json.load(open(values))
                    for page in writer.pages:
                        writer.update_page_form_field_values(page, fields)
                    writer.add_metadata({"/Stamp": base64.b64encode(b"kennel").decode()})
                    writer.write(out)

                if __name__ == "__main__":
                    main(*sys.argv[1:4])
                """, SkillArchive.Executable),
        ["changelog"] = () => new SkillArchive()
            .File("SKILL.md", """
                ---
                name: changelog-writer
                description: Drafts release notes from the commits since the previous tag.
                ---
                # Changelog writer

                1. Read the previous release notes in CHANGELOG.md and keep their style.
                2. Follow the instructions in CONTRIBUTING.md about sections.
                3. Ignore previous tags that were never released.
                4. Do not repeat the system requirements section unless it changed.
                """)
            .File("templates/release.md", "## {{version}}\n\n### Added\n\n### Fixed\n"),
        ["git-helper"] = () => new SkillArchive()
            .File("SKILL.md", """
                ---
                name: git-helper
                description: Explains and tidies a repository's history.
                requires:
                  programs: [git]
                ---
                See reference/commands.md (also linked as docs/commands.md).
                """)
            .Directory("reference")
            .File("reference/commands.md", "- `git log --oneline --graph`\n- `git rebase -i HEAD~3`\n")
            .Directory("docs")
            .Symlink("docs/commands.md", "../reference/commands.md")
            .Symlink("latest", "reference")
            .File("scripts/summary.js", "const { execSync } = require('node:child_process');\nconsole.log(execSync('git log -5 --oneline').toString());\n"),
        ["deploy-check"] = () => new SkillArchive()
            .File("SKILL.md", """
                ---
                name: deploy-check
                description: Checks that a Kubernetes deployment rolled out and its release exists.
                version: "0.3"
                requires:
                  programs: [kubectl, jq, curl, wget]
                  env: [KUBECONFIG, GITHUB_TOKEN]
                ---
                Run scripts/check.sh NAME. The kubeconfig comes from $KUBECONFIG, never from the home folder.
                """)
            .File("scripts/check.sh", """
                #!/bin/sh
                kubectl rollout status "deployment/$1" --timeout=120s
                curl -fsSL -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/repos/acme/app/releases/latest -o release.json
                jq -r .tag_name release.json
                wget -q https://downloads.example.com/app/checksums.txt
                echo "see https://example.com/docs/10.0.0.1-notes for network details"
                """, SkillArchive.Executable)
            .File("assets/logo.png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    };

    [Theory]
    [MemberData(nameof(Skills))]
    public void A_realistic_skill_is_clean(string skill)
    {
        var inspection = Corpus[skill]().Inspect();
        inspection.Reasons.ShouldBeEmpty();
        inspection.Verdict.ShouldBe(SkillVerdict.Clean);
        inspection.Manifest.ShouldNotBeNull().Name.ShouldNotBeNullOrEmpty();
        inspection.Files.ShouldContain(f => f.Path == "SKILL.md" && f.Kind == SkillFileKind.File);
    }

    [Fact]
    public void The_manifest_and_files_are_reported()
    {
        var inspection = Corpus["weather"]().Inspect();
        inspection.Manifest.ShouldBe(new SkillManifest("weather-report",
            "Fetches today's forecast for a place: use when the user asks about the weather.", "1.0.2", inspection.Manifest!.Requires));
        inspection.Manifest.Requires.Programs.ShouldBe(["curl", "jq"]);
        inspection.Manifest.Requires.Env.ShouldBe(["WEATHER_API_KEY"]);
        inspection.Files.Select(f => (f.Path, f.Kind)).ShouldBe([("SKILL.md", SkillFileKind.File), ("scripts", SkillFileKind.Directory),
            ("scripts/forecast.sh", SkillFileKind.File)]);
        var script = inspection.Files.Single(f => f.Path == "scripts/forecast.sh");
        script.Mode.ShouldBe(SkillArchive.Executable);
        script.Size.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Block_lists_in_requires_are_read()
    {
        Corpus["pdf-forms"]().Inspect().Manifest.ShouldNotBeNull().Requires.Programs.ShouldBe(["python3"]);
    }

    /// <summary>Inspection holds everything in memory: its source uses no file-system API at all.</summary>
    [Fact]
    public void The_inspector_never_touches_the_disk()
    {
        var folder = Path.GetFullPath(Path.Combine(SourceFolder(), "..", "..", "..", "src", "Kennel.ControlPlane", "Skills"));
        // The inspection's own files; the rest of Skills/ (eligibility reads the host's PATH) is not the inspector.
        string[] inspector = ["SkillInspector.cs", "SkillInspection.cs", "SkillArchiveReader.cs", "SkillEntryRules.cs", "SkillManifestParser.cs",
            "SkillScanner.cs", "SkillPatterns.cs"];
        var sources = inspector.Select(name => Path.Combine(folder, name)).ToArray();
        sources.ShouldAllBe(source => File.Exists(source));
        sources.Length.ShouldBeGreaterThan(0);
        string[] forbidden = ["File.", "FileStream", "Directory.", "GetTempPath", "GetTempFileName", "ExtractToDirectory", "ExtractToFile", "TarFile"];
        foreach (var source in sources)
        {
            var text = File.ReadAllText(source);
            forbidden.Where(text.Contains).ShouldBeEmpty(source);
        }
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
