using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Agents;
using Kennel.ControlPlane.Sessions;
using Kennel.Store;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// What a sandbox that an agent starts mounts under <c>/skills/</c>: the agent's installed skills by name and archive
/// hash, and the verified archive bytes a worker fetches by hash. Every read names the workspace or the worker it serves.
/// </summary>
public sealed partial class SkillMounts(Database database, SkillStore store, AgentService agents)
{
    /// <summary>
    /// The agent's installed skills (all of them when its config names none) with the env vars they declare: an exec
    /// sandbox gets the workspace secrets of those names, so a skill that needs <c>GITHUB_TOKEN</c> finds it set (and only
    /// there: the names come from installed skills alone).
    /// </summary>
    public async Task<(IReadOnlyList<SessionSkill> Skills, IReadOnlyList<string> Env)> ForExecAsync(string workspaceId, string agent,
        CancellationToken cancellationToken)
    {
        var definition = (await agents.DirectoryAsync(workspaceId, cancellationToken)).FindAgent(agent);
        var installed = (await store.ListAsync(workspaceId, cancellationToken)).Where(row => definition?.HasSkill(row.Name) ?? true).ToList();
        var env = installed.SelectMany(row => SkillRows.Requirements(row).Env).Distinct(StringComparer.Ordinal).ToList();
        return ([.. installed.Select(row => new SessionSkill(row.Name, row.Sha256))], env);
    }

    /// <summary>Whether <paramref name="sha256"/> is a lower-case hex SHA-256, as sessions and the skills table hold it.</summary>
    public static bool IsHash(string sha256) => Sha256Pattern().IsMatch(sha256);

    /// <summary>
    /// The archive with this hash, but only for a worker that holds a live session whose spec lists it, and only as the
    /// workspace of that session installed it; otherwise null. A worker can so never read a skill it was not sent to mount.
    /// </summary>
    public async Task<byte[]?> ArchiveForWorkerAsync(string workerId, string sha256, CancellationToken cancellationToken)
    {
        var candidates = await database.ReadAsync(async connection => (await connection.QueryAsync<(string Spec, string Archive)>(new CommandDefinition(
            "SELECT s.spec, k.archive FROM sessions s JOIN skills k ON k.workspace_id = s.workspace_id AND k.sha256 = @sha256 " +
            $"WHERE s.worker_id = @workerId AND s.status IN {SessionStore.NonTerminal}",
            new { workerId, sha256 }, cancellationToken: cancellationToken))).ToList(), cancellationToken);
        // The join found sessions of workspaces that installed the hash; the spec says whether the session mounts it.
        var granted = candidates.FirstOrDefault(row =>
            JsonSerializer.Deserialize(row.Spec, StoreJson.Default.StoredSessionSpec)?.Skills?.Any(skill => skill.Sha256 == sha256) == true);
        return granted.Archive is { } encoded ? Convert.FromBase64String(encoded) : null;
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
