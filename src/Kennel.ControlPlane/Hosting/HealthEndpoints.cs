using Kennel.Store;

namespace Kennel.ControlPlane.Hosting;

public static class HealthEndpoints
{
    public static readonly string Version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary><c>GET /v1/health</c>, the one unauthenticated route: is the store reachable.</summary>
    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/health", async (Database database, CancellationToken cancellationToken) =>
        {
            var store = database.Provider.ToString().ToLowerInvariant();
            return await StoreIsReachableAsync(database, cancellationToken)
                ? Results.Json(new HealthReport("ok", Version, store, null), HealthJson.Default.HealthReport)
                : Results.Json(new HealthReport("degraded", Version, store, "The store is unreachable."), HealthJson.Default.HealthReport,
                    statusCode: StatusCodes.Status503ServiceUnavailable);
        });

    /// <summary>The one store check behind every health endpoint.</summary>
    public static async Task<bool> StoreIsReachableAsync(Database database, CancellationToken cancellationToken)
    {
        try
        {
            await database.ReadAsync(async connection =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                return await command.ExecuteScalarAsync(cancellationToken);
            }, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or IOException)
        {
            return false;
        }
    }
}

public sealed record HealthReport(string Status, string Version, string Store, string? Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReport))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
