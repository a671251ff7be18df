using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Workspaces;

public static partial class WorkspaceName
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex Pattern();
}
