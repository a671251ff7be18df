using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Kennel.Tests.Observability;

/// <summary>A Prometheus text exposition as a scraper reads it: samples by name and labels.</summary>
public sealed partial class Scrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> samples = [];

    private Scrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (Sample().Match(line) is { Success: true } sample)
            {
                var labels = Label().Matches(sample.Groups["labels"].Value)
                    .ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value), StringComparer.Ordinal);
                samples.Add((sample.Groups["name"].Value, labels, double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture)));
            }
        }
    }

    public string Text { get; }

    public static async Task<Scrape> ReadAsync(HttpClient http, string url = "/metrics")
    {
        using var response = await http.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with these labels (and any others); null when there is none.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels)
    {
        var matches = samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).ToList();
        matches.Count.ShouldBeLessThanOrEqualTo(1, $"several samples of {name} match");
        return matches.Count == 0 ? null : matches[0].Value;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
