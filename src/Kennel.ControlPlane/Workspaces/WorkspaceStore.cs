using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Workspaces;

public sealed record Workspace(string Id, string Name);

/// <summary>Workspaces are the tenants. Everything else is looked up inside one.</summary>
public sealed class WorkspaceStore(Database database, TimeProvider time)
{
    public const string DefaultName = "default";

    public Task<Workspace?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<Workspace>(
            new CommandDefinition("SELECT id, name FROM workspaces WHERE name = @name", new { name }, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>Returns the named workspace, creating it if it does not exist yet.</summary>
    public async Task<Workspace> EnsureAsync(string name, CancellationToken cancellationToken)
    {
        if (await FindByNameAsync(name, cancellationToken) is { } existing)
        {
            return existing;
        }
        return await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO workspaces (id, name, created_at) VALUES (@id, @name, @now) ON CONFLICT (name) DO NOTHING",
                new { id = SortableId.New("ws", time), name, now = time.GetUtcNow().ToUnixTimeMilliseconds() },
                transaction, cancellationToken: cancellationToken));
            return await connection.QuerySingleAsync<Workspace>(new CommandDefinition(
                "SELECT id, name FROM workspaces WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
    }
}
