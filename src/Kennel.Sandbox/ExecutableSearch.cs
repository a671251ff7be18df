namespace Kennel.Sandbox;

/// <summary>Finds a program the way a shell would, so the runtime can say which tool is missing before any session needs it.</summary>
internal static class ExecutableSearch
{
    // Daemons often start with a short PATH; the system directories are where Debian installs these tools.
    private static readonly string[] SystemDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemDirectories))
        {
            var candidate = Path.Join(directory, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & AnyExecute) != 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
