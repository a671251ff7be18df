using Dapper;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Agents;
using Kennel.Store;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// What a sandbox that an agent starts mounts under <c>/skills/</c>: the agent's installed skills by name and archive
/// hash, and the verified archive bytes a worker fetches by hash. Every read names the workspace or the hash it serves.
/// </summary>
public sealed class SkillMounts(Database database, AgentService agents)
{
    /// <summary>The skills of <paramref name="agent"/> that are installed in the workspace (all of them when its config names none).</summary>
    public async Task<IReadOnlyList<SessionSkill>> ForAgentAsync(string workspaceId, string agent, CancellationToken cancellationToken)
    {
        var wanted = (await agents.DirectoryAsync(workspaceId, cancellationToken)).FindAgent(agent)?.Skills;
        var installed = await database.ReadAsync(async connection => (await connection.QueryAsync<(string Name, string Sha256)>(new CommandDefinition(
            "SELECT name, sha256 FROM skills WHERE workspace_id = @workspaceId ORDER BY name", new { workspaceId },
            cancellationToken: cancellationToken))).ToList(), cancellationToken);
        return [.. installed.Where(skill => wanted is null || wanted.Contains(skill.Name)).Select(skill => new SessionSkill(skill.Name, skill.Sha256))];
    }

    /// <summary>The archive with this hash, from any workspace that installed it (the caller checks who may read it), or null.</summary>
    public async Task<byte[]?> ArchiveAsync(string sha256, CancellationToken cancellationToken)
    {
        var encoded = await database.ReadAsync(connection => connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT archive FROM skills WHERE sha256 = @sha256", new { sha256 }, cancellationToken: cancellationToken)), cancellationToken);
        return encoded is null ? null : Convert.FromBase64String(encoded);
    }
}
