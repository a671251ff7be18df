using System.Data.Common;
using System.Text.Json;
using Dapper;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>
/// The snapshot of a session being claimed: its name resolved to an image digest now, at the claim, and recorded on the
/// session (a tag that moves later does not change what the session ran on); the recipe's env defaults and workdir
/// applied to the session's spec. A name that no longer resolves fails the session, never falls back.
/// </summary>
internal static class SessionSnapshots
{
    public static async Task<Resolved> ResolveAsync(DbConnection connection, DbTransaction transaction, SessionRow row, CancellationToken cancellationToken)
    {
        if (SnapshotCatalog.IsBuiltIn(row.Snapshot))
        {
            return new Resolved(null, null);
        }
        var found = SnapshotReference.TryParse(row.Snapshot, out var reference)
            ? await SnapshotStore.ResolveAsync(connection, transaction, row.WorkspaceId, reference, cancellationToken)
            : null;
        if (found?.Digest is not { } digest)
        {
            return new Resolved(null, new SessionError(ErrorCodes.SnapshotNotFound,
                $"The snapshot '{row.Snapshot}' no longer names a ready snapshot of this workspace (deleted or untagged since the session was created), so the session did not run."));
        }
        await connection.ExecuteAsync(new CommandDefinition("UPDATE sessions SET snapshot_digest = @digest WHERE id = @Id", new { digest, row.Id },
            transaction, cancellationToken: cancellationToken));
        row.SnapshotDigest = digest;
        return new Resolved(JsonSerializer.Deserialize(found.Recipe, SnapshotJson.Default.SnapshotRecipe), null);
    }

    /// <param name="Recipe">The recipe of the built snapshot; null for a built-in.</param>
    /// <param name="Error">Why the session cannot run on it.</param>
    public sealed record Resolved(SnapshotRecipe? Recipe, SessionError? Error)
    {
        /// <summary>The spec with the recipe's env defaults under its own env, and its argv started in the recipe's workdir.</summary>
        public StoredSessionSpec Apply(StoredSessionSpec spec)
        {
            if (Recipe is null)
            {
                return spec;
            }
            var env = new Dictionary<string, string>(Recipe.Env, StringComparer.Ordinal);
            foreach (var (name, value) in spec.Env)
            {
                env[name] = value;
            }
            spec = spec with { Env = env };
            return Recipe.Workdir is { } workdir
                ? spec with { Script = null, Command = ["/bin/sh", "-c", "cd \"$1\" || exit 126; shift; exec \"$@\"", "sh", workdir, .. spec.Argv()] }
                : spec;
        }
    }
}
