using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Skills;

/// <summary>
/// Installed skills and their pins. Every query names the workspace. An install writes the row, its archive and the pin
/// in one transaction, after the pin check in that same transaction, so a refused or failed install leaves nothing.
/// </summary>
public sealed class SkillStore(Database database)
{
    internal const string Columns =
        "workspace_id, name, registry, registry_url, version, sha256, size, publisher, verdict, reasons, description, requires, files, " +
        "installed_by, installed_at, updated_at";

    public const int MaxPerWorkspace = 200;

    public enum SaveResult { Saved, Tampered, TooMany }

    /// <summary>
    /// Writes the skill (a new row, or over the installed one of that name) unless the pin of (registry URL, name,
    /// version) holds another hash; the first install of a version pins it. <paramref name="pinned"/> says which hash
    /// the pin holds when the result is <see cref="SaveResult.Tampered"/>.
    /// </summary>
    public Task<(SaveResult Result, string? Pinned)> SaveAsync(SkillRow row, string archiveBase64, CancellationToken cancellationToken) =>
        database.WriteAsync<(SaveResult, string?)>(async (connection, transaction) =>
        {
            var pin = new { row.WorkspaceId, row.RegistryUrl, row.Name, row.Version, row.Sha256, PinnedAt = row.UpdatedAt };
            var pinned = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
                "SELECT sha256 FROM skill_pins WHERE workspace_id = @WorkspaceId AND registry_url = @RegistryUrl AND name = @Name AND version = @Version",
                pin, transaction, cancellationToken: cancellationToken));
            if (pinned is not null && pinned != row.Sha256)
            {
                return (SaveResult.Tampered, pinned);
            }
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM skills WHERE workspace_id = @WorkspaceId AND name = @Name", row, transaction, cancellationToken: cancellationToken)) > 0;
            if (!exists && await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM skills WHERE workspace_id = @WorkspaceId", row, transaction, cancellationToken: cancellationToken)) >= MaxPerWorkspace)
            {
                return (SaveResult.TooMany, null);
            }
            if (pinned is null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO skill_pins (workspace_id, registry_url, name, version, sha256, pinned_at) " +
                    "VALUES (@WorkspaceId, @RegistryUrl, @Name, @Version, @Sha256, @PinnedAt)", pin, transaction, cancellationToken: cancellationToken));
            }
            var values = new
            {
                row.WorkspaceId,
                row.Name,
                row.Registry,
                row.RegistryUrl,
                row.Version,
                row.Sha256,
                row.Size,
                row.Publisher,
                row.Verdict,
                row.Reasons,
                row.Description,
                row.Requires,
                row.Files,
                Archive = archiveBase64,
                row.InstalledBy,
                row.InstalledAt,
                row.UpdatedAt,
            };
            await connection.ExecuteAsync(new CommandDefinition(exists
                ? "UPDATE skills SET registry = @Registry, registry_url = @RegistryUrl, version = @Version, sha256 = @Sha256, size = @Size, " +
                  "publisher = @Publisher, verdict = @Verdict, reasons = @Reasons, description = @Description, requires = @Requires, files = @Files, " +
                  "archive = @Archive, installed_by = @InstalledBy, updated_at = @UpdatedAt WHERE workspace_id = @WorkspaceId AND name = @Name"
                : $"INSERT INTO skills ({Columns}, archive) VALUES (@WorkspaceId, @Name, @Registry, @RegistryUrl, @Version, @Sha256, @Size, @Publisher, " +
                  "@Verdict, @Reasons, @Description, @Requires, @Files, @InstalledBy, @InstalledAt, @UpdatedAt, @Archive)",
                values, transaction, cancellationToken: cancellationToken));
            return (SaveResult.Saved, null);
        }, cancellationToken);

    public Task<SkillRow?> GetAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        database.ReadRowAsync<SkillRow>($"SELECT {Columns} FROM skills WHERE workspace_id = @workspaceId AND name = @name",
            [("workspaceId", workspaceId), ("name", name)], cancellationToken);

    public Task<List<SkillRow>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection => (await connection.QueryAsync<SkillRow>(new CommandDefinition(
            $"SELECT {Columns} FROM skills WHERE workspace_id = @workspaceId ORDER BY name", new { workspaceId },
            cancellationToken: cancellationToken))).ToList(), cancellationToken);

    /// <summary>The hash pinned for a version of a skill from a registry URL, or null when none was ever installed.</summary>
    public Task<string?> PinAsync(string workspaceId, string registryUrl, string name, string version, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT sha256 FROM skill_pins WHERE workspace_id = @workspaceId AND registry_url = @registryUrl AND name = @name AND version = @version",
            new { workspaceId, registryUrl, name, version }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The archive of an installed skill of this workspace, or null.</summary>
    public async Task<byte[]?> ArchiveAsync(string workspaceId, string name, CancellationToken cancellationToken)
    {
        var encoded = await database.ReadAsync(connection => connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT archive FROM skills WHERE workspace_id = @workspaceId AND name = @name", new { workspaceId, name },
            cancellationToken: cancellationToken)), cancellationToken);
        return encoded is null ? null : Convert.FromBase64String(encoded);
    }

    /// <summary>Removes the skill; its pins stay, so a later reinstall of a version still has to match the hash seen first.</summary>
    public Task<bool> DeleteAsync(string workspaceId, string name, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM skills WHERE workspace_id = @workspaceId AND name = @name", new { workspaceId, name }, transaction,
            cancellationToken: cancellationToken)) > 0, cancellationToken);
}
