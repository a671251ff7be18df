namespace Kennel.Cli;

/// <summary>Plain aligned columns for people. Scripts use <c>--json</c> instead of parsing this.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> rows = [];

    public void Add(params string?[] cells) => rows.Add([.. cells.Select(c => c ?? "-")]);

    public void Write(TextWriter output)
    {
        if (rows.Count == 0)
        {
            output.WriteLine("(none)");
            return;
        }
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Line(headers, widths));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
