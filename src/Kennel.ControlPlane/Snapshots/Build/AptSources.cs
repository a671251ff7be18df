namespace Kennel.ControlPlane.Snapshots.Build;

/// <summary>
/// The host's apt sources, read from <c>/etc/apt/sources.list</c> and <c>/etc/apt/sources.list.d/</c> (one-line and
/// deb822 formats): which mirror serves which suite.
/// </summary>
public sealed class AptSources(string root = "/etc/apt")
{
    public IReadOnlyList<string> Suites => [.. Entries().Select(e => e.Suite).Distinct(StringComparer.Ordinal)];

    /// <summary>The first http(s) mirror the host uses for <paramref name="suite"/>, or null.</summary>
    public string? MirrorFor(string suite) => Entries().FirstOrDefault(e => e.Suite == suite).Uri;

    private IEnumerable<(string Uri, string Suite)> Entries()
    {
        var files = new List<string>();
        if (File.Exists(Path.Join(root, "sources.list")))
        {
            files.Add(Path.Join(root, "sources.list"));
        }
        if (Directory.Exists(Path.Join(root, "sources.list.d")))
        {
            files.AddRange(Directory.EnumerateFiles(Path.Join(root, "sources.list.d")).Order(StringComparer.Ordinal));
        }
        foreach (var file in files)
        {
            if (file.EndsWith(".list", StringComparison.Ordinal))
            {
                foreach (var entry in OneLine(File.ReadAllLines(file)))
                {
                    yield return entry;
                }
            }
            else if (file.EndsWith(".sources", StringComparison.Ordinal))
            {
                foreach (var entry in Deb822(File.ReadAllText(file)))
                {
                    yield return entry;
                }
            }
        }
    }

    private static IEnumerable<(string, string)> OneLine(string[] lines)
    {
        foreach (var line in lines.Select(l => l.Trim()))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            if (words.Count < 3 || words[0] != "deb")
            {
                continue;
            }
            words.RemoveAt(0);
            if (words[0].StartsWith('['))
            {
                while (words.Count > 0 && !words[0].EndsWith(']'))
                {
                    words.RemoveAt(0);
                }
                words.RemoveAt(0);
            }
            if (words.Count >= 2 && IsHttp(words[0]))
            {
                yield return (words[0], words[1]);
            }
        }
    }

    private static IEnumerable<(string, string)> Deb822(string text)
    {
        foreach (var stanza in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in stanza.Split('\n').Where(l => !l.TrimStart().StartsWith('#') && l.Contains(':', StringComparison.Ordinal)))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
            if (!fields.TryGetValue("Types", out var types) || !types.Split(' ').Contains("deb")
                || (fields.TryGetValue("Enabled", out var enabled) && enabled == "no")
                || !fields.TryGetValue("URIs", out var uris) || !fields.TryGetValue("Suites", out var suites))
            {
                continue;
            }
            var uri = uris.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(IsHttp);
            if (uri is null)
            {
                continue;
            }
            foreach (var suite in suites.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return (uri, suite);
            }
        }
    }

    private static bool IsHttp(string uri) => uri.StartsWith("http://", StringComparison.Ordinal) || uri.StartsWith("https://", StringComparison.Ordinal);
}
