using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.Sandbox.Network;

namespace Kennel.ControlPlane.Sessions;

/// <summary>
/// Who may give a workload the whole public internet (network mode <c>open</c>): installation admins, and the
/// workspaces the installation lists in <c>KENNEL_OPEN_NETWORK_WORKSPACES</c>. Sessions, daemons and snapshot builds
/// all ask here, after <see cref="CreateSessionValidator.Network"/> has checked the request itself.
/// </summary>
public sealed class NetworkAccess(IReadOnlySet<string> openWorkspaces)
{
    public const string OpenWorkspacesVariable = "KENNEL_OPEN_NETWORK_WORKSPACES";

    /// <summary>Throws a 403 when <paramref name="mode"/> is <c>open</c> and the caller may not have it.</summary>
    public void Check(Caller caller, string mode, string field = "network.mode")
    {
        if (mode == EgressPolicy.OpenName && !caller.IsInstallationAdmin && !openWorkspaces.Contains(caller.WorkspaceName))
        {
            throw new ApiProblem(StatusCodes.Status403Forbidden, ErrorCodes.NetworkModeForbidden, "The network mode is not allowed.",
                $"network.mode 'open' reaches any public address, so only installation admins and the workspaces listed in {OpenWorkspacesVariable} "
                + "may use it. Use network.mode 'allowlist' with the hosts the workload needs.", field);
        }
    }
}
