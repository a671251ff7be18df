using Dapper;
using Kennel.Store;

namespace Kennel.ControlPlane.Servers;

public sealed class HostKeyRow
{
    public string Algorithm { get; set; } = "";
    public string Fingerprint { get; set; } = "";
}

/// <summary>
/// Server queries. Servers, like the workers they become, belong to the installation rather than a workspace (see
/// migration 0024), so these queries are not filtered by workspace; only installation admins reach them.
/// </summary>
public sealed class ServerStore(Database database)
{
    public Task<HostKeyRow?> FindHostKeyAsync(string address, int port, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<HostKeyRow>(new CommandDefinition(
            "SELECT algorithm, fingerprint FROM server_host_keys WHERE address = @address AND port = @port",
            new { address, port }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>
    /// Trusts a key for the address and port. A new key is only remembered when none is (first use: two first uses racing
    /// keep the first); a pinned key replaces what was remembered, since the caller checked it themselves.
    /// </summary>
    public Task TrustHostKeyAsync(string address, int port, string algorithm, string fingerprint, bool replace, long now, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO server_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES (@address, @port, @algorithm, @fingerprint, @now) " +
            (replace
                ? "ON CONFLICT (address, port) DO UPDATE SET algorithm = excluded.algorithm, fingerprint = excluded.fingerprint, trusted_at = excluded.trusted_at"
                : "ON CONFLICT (address, port) DO NOTHING"),
            new { address, port, algorithm, fingerprint, now }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}
