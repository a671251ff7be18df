using Kennel.Store;

namespace Kennel.ControlPlane.Hosting;

public static class HealthEndpoints
{
    public static readonly string Version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary><c>GET /v1/health</c>, the one unauthenticated route: is the store reachable.</summary>
    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/health", async (Database database, CancellationToken cancellationToken) =>
        {
            try
            {
                await database.ReadAsync(async connection =>
                {
                    await using var command = connection.CreateCommand();
                    command.CommandText = "SELECT 1";
                    return await command.ExecuteScalarAsync(cancellationToken);
                }, cancellationToken);
                return Results.Json(new HealthReport("ok", Version, database.Provider.ToString().ToLowerInvariant(), null), HealthJson.Default.HealthReport);
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException or IOException)
            {
                return Results.Json(new HealthReport("degraded", Version, database.Provider.ToString().ToLowerInvariant(), "The store is unreachable."),
                    HealthJson.Default.HealthReport, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
}

public sealed record HealthReport(string Status, string Version, string Store, string? Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthReport))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
