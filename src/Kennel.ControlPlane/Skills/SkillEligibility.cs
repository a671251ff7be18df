using Kennel.ControlPlane.Secrets;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// Whether a skill's requirements are met where agents run it. A program must be an executable file in a directory of
/// the sandbox's PATH in the default snapshot (the host's <c>/usr</c>, seen read-only); an env var must be a secret of
/// that name in the workspace. Each unmet requirement is one line saying what is missing.
/// </summary>
public sealed class SkillEligibility(SecretStore secrets)
{
    public static readonly IReadOnlyList<string> ProgramDirectories = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"];

    /// <summary>The unmet requirements of each set, in order, with one read of the workspace's secret names for all.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> UnmetAsync(string workspaceId, IReadOnlyList<SkillRequirements> requirements,
        CancellationToken cancellationToken)
    {
        var names = requirements.SelectMany(r => r.Env).Distinct(StringComparer.Ordinal).ToList();
        var existing = names.Count == 0 ? [] : await secrets.ExistingAsync(workspaceId, names, cancellationToken);
        return [.. requirements.Select(r => (IReadOnlyList<string>)
        [
            .. r.Programs.Where(program => !HasProgram(program)).Select(program => $"program '{program}' is not on the sandbox's PATH"),
            .. r.Env.Where(name => !existing.Contains(name)).Select(name => $"env '{name}' needs a workspace secret of that name (kennel secret set {name})"),
        ])];
    }

    private static bool HasProgram(string program) =>
        program.Trim('.').Length > 0 && !program.Contains('/', StringComparison.Ordinal)
        && ProgramDirectories.Any(directory => File.Exists(Path.Join(directory, program))
            && (File.GetUnixFileMode(Path.Join(directory, program)) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
