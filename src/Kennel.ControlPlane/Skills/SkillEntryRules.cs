using System.Formats.Tar;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// Stage 3: every entry must stay inside the skill folder once installed. Paths are checked lexically, hard links are
/// refused outright, and a symlink may point only inside the folder and never through another symlink, so a chain of
/// links cannot climb out either.
/// </summary>
internal static class SkillEntryRules
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private static readonly HashSet<string> ScriptExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".sh", ".bash", ".zsh", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".ps1",
    };

    private static readonly HashSet<string> Interpreters = new(StringComparer.Ordinal)
    {
        "sh", "bash", "zsh", "dash", "python", "python3", "node", "deno", "bun", "ruby", "perl", "pwsh",
    };

    /// <summary>Checks the entries and lists them with their normalised paths.</summary>
    public static (List<SkillFile> Files, List<SkillReason> Reasons) Check(IReadOnlyList<SkillEntry> entries)
    {
        var files = new List<SkillFile>();
        var reasons = new List<SkillReason>();
        var symlinks = entries.Where(e => e.Type == TarEntryType.SymbolicLink).Select(e => Normalise(e.Name)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (Normalise(entry.Name) is not { } path)
            {
                reasons.Add(SkillReason.Block("path_traversal", "the path is absolute or climbs out of the folder", entry.Name));
                continue;
            }
            if (path.Length == 0)
            {
                continue;
            }
            switch (entry.Type)
            {
                case TarEntryType.Directory:
                    files.Add(new SkillFile(path, 0, entry.Mode, SkillFileKind.Directory));
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    files.Add(new SkillFile(path, entry.Length, entry.Mode, SkillFileKind.File));
                    if (UnaccountedExecutable(path, entry) is { } why)
                    {
                        reasons.Add(SkillReason.Block("unknown_executable", why, path));
                    }
                    break;
                case TarEntryType.SymbolicLink:
                    files.Add(new SkillFile(path, 0, entry.Mode, SkillFileKind.Symlink));
                    if (!LinkStaysInside(path, entry.LinkName, symlinks))
                    {
                        reasons.Add(SkillReason.Block("link_escape", $"the symlink points to '{entry.LinkName}', outside the folder or through another link", path));
                    }
                    break;
                case TarEntryType.HardLink:
                    reasons.Add(SkillReason.Block("link_escape", "hard links are not allowed", path));
                    break;
                default:
                    reasons.Add(SkillReason.Block("special_file", $"entries of type {entry.Type} are not allowed", path));
                    break;
            }
        }
        return (files, reasons);
    }

    /// <summary>The relative path without './' or a trailing '/', or null when it is absolute or has a '..' segment.</summary>
    public static string? Normalise(string name)
    {
        if (name.StartsWith('/') || name.Contains('\\') || name.Contains('\0') || (name.Length >= 2 && name[1] == ':'))
        {
            return null;
        }
        var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        return segments.Contains("..") ? null : string.Join('/', segments);
    }

    private static bool LinkStaysInside(string path, string target, HashSet<string> symlinks)
    {
        if (target.Length == 0 || target.StartsWith('/') || target.Contains('\\') || target.Contains('\0'))
        {
            return false;
        }
        var resolved = path.Split('/').SkipLast(1).ToList();
        foreach (var segment in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (resolved.Count == 0)
                {
                    return false;
                }
                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            resolved.Add(segment);
            if (symlinks.Contains(string.Join('/', resolved)) && string.Join('/', resolved) != path)
            {
                return false;
            }
        }
        return true;
    }

    private static string? UnaccountedExecutable(string path, SkillEntry entry)
    {
        if (NativeExecutable(entry.Content))
        {
            return "the file is a native executable (ELF, Mach-O or PE)";
        }
        if ((entry.Mode & AnyExecute) == 0 || ScriptExtensions.Contains(Path.GetExtension(path)) || HasKnownShebang(entry.Content))
        {
            return null;
        }
        return "the file is marked executable but is not a recognised script";
    }

    private static bool NativeExecutable(byte[] content) => content switch
    {
        [0x7f, (byte)'E', (byte)'L', (byte)'F', ..] => true,
        [0xfe, 0xed, 0xfa, 0xce or 0xcf, ..] or [0xce or 0xcf, 0xfa, 0xed, 0xfe, ..] or [0xca, 0xfe, 0xba, 0xbe, ..] => true,
        [(byte)'M', (byte)'Z', ..] => true,
        _ => false,
    };

    private static bool HasKnownShebang(byte[] content)
    {
        if (content is not [(byte)'#', (byte)'!', ..])
        {
            return false;
        }
        var end = Array.IndexOf(content, (byte)'\n');
        var line = System.Text.Encoding.UTF8.GetString(content, 2, (end < 0 ? Math.Min(content.Length, 200) : end) - 2).Trim();
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return false;
        }
        var program = Path.GetFileName(words[0]);
        if (program == "env")
        {
            program = words.Skip(1).FirstOrDefault(w => !w.StartsWith('-')) ?? "";
        }
        return Interpreters.Contains(program);
    }
}
