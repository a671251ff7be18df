using Kennel.Store;

namespace Kennel.ControlPlane.Hosting;

public static class HealthEndpoints
{
    public static readonly string Version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary><c>GET /v1/health</c>, the one unauthenticated route: is the store reachable, and which engine serves it.</summary>
    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/health", async (Database database, CancellationToken cancellationToken) =>
        {
            var store = database.Provider.ToString().ToLowerInvariant();
            return await StoreVersionAsync(database, cancellationToken) is { } storeVersion
                ? Results.Json(new HealthReport("ok", Version, store, storeVersion, null), HealthJson.Default.HealthReport)
                : Results.Json(new HealthReport("degraded", Version, store, null, "The store is unreachable."), HealthJson.Default.HealthReport,
                    statusCode: StatusCodes.Status503ServiceUnavailable);
        });

    /// <summary>The one store check behind every health endpoint.</summary>
    public static async Task<bool> StoreIsReachableAsync(Database database, CancellationToken cancellationToken) =>
        await StoreVersionAsync(database, cancellationToken) is not null;

    /// <summary>
    /// The version of the engine that answered a query (the SQLite library in this process, or the PostgreSQL server), or
    /// null when the store did not answer.
    /// </summary>
    private static async Task<string?> StoreVersionAsync(Database database, CancellationToken cancellationToken)
    {
        try
        {
            return await database.ReadAsync(async connection =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken);
                return Database.EngineVersion(connection);
            }, cancellationToken);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or IOException)
        {
            return null;
        }
    }
}

public sealed record HealthReport(string Status, string Version, string Store, string? StoreVersion, string? Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReport))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
