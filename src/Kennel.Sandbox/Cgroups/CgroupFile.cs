using System.Globalization;
using System.Text;

namespace Kennel.Sandbox.Cgroups;

/// <summary>Reads and writes cgroup control files, which expect one whole value per write(2).</summary>
internal static class CgroupFile
{
    public static void Write(string path, string value)
    {
        // FileMode.Open: control files exist; creating or truncating them is meaningless.
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, Encoding.ASCII.GetBytes(value), 0);
    }

    /// <summary>The number after <paramref name="key"/> in a flat-keyed file such as <c>cpu.stat</c> or <c>memory.events</c>.</summary>
    public static long ReadKeyed(string path, string key)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length > key.Length && line[key.Length] == ' ' && line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(key.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidDataException($"{path} has no '{key}' line.");
    }

    public static long ReadNumber(string path) =>
        long.Parse(File.ReadAllText(path).AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
}
