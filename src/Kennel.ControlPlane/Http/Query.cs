using System.Globalization;

namespace Kennel.ControlPlane.Http;

/// <summary>Query-string numbers, parsed here so a bad one is a 400 naming the parameter instead of a binding failure.</summary>
public static class Query
{
    public static int? Int(string name, string? value) =>
        value is null ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw ApiProblem.Invalid(name, $"{name} must be an integer.");

    public static long? Long(string name, string? value) =>
        value is null ? null
        : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw ApiProblem.Invalid(name, $"{name} must be an integer.");
}
