using Kennel.Contracts.Quotas;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Workspaces;

namespace Kennel.ControlPlane.Quotas;

/// <summary>
/// A workspace's limits: every member may read its own; installation admins (an admin key of <c>default</c>) read and set
/// any workspace's.
/// </summary>
public sealed class QuotaService(QuotaStore store, WorkspaceStore workspaces)
{
    public const int MaxSessionsLimit = 1_000_000;

    public async Task<WorkspaceQuota> GetAsync(Caller caller, string workspaceName, CancellationToken cancellationToken)
    {
        var workspace = await FindAsync(caller, workspaceName, "Only an admin key of the 'default' workspace may read another workspace's quota.",
            cancellationToken);
        var (limits, overridden, usage) = await store.GetAsync(workspace.Id, cancellationToken);
        return new WorkspaceQuota(workspace.Name, limits, overridden, usage);
    }

    public async Task<WorkspaceQuota> SetAsync(Caller caller, string workspaceName, SetQuotaRequest request, CancellationToken cancellationToken)
    {
        if (!caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, "Only an admin key of the 'default' workspace may set quotas.");
        }
        Validate("maxRunningSessions", request.MaxRunningSessions, MaxSessionsLimit);
        Validate("maxVcpus", request.MaxVcpus, MaxSessionsLimit);
        Validate("maxQueuedSessions", request.MaxQueuedSessions, MaxSessionsLimit);
        var workspace = await FindAsync(caller, workspaceName, "", cancellationToken);
        await store.SetAsync(workspace.Id, request, cancellationToken);
        return await GetAsync(caller, workspaceName, cancellationToken);
    }

    private async Task<Workspace> FindAsync(Caller caller, string workspaceName, string forbidden, CancellationToken cancellationToken)
    {
        if (!WorkspaceName.IsValid(workspaceName))
        {
            throw ApiProblem.Invalid("workspace", "A workspace name is 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit.");
        }
        // Another workspace's name gets the same answer whether or not it exists.
        if (!string.Equals(workspaceName, caller.WorkspaceName, StringComparison.Ordinal) && !caller.IsInstallationAdmin)
        {
            throw ApiProblem.Forbidden(ErrorCodes.WorkspaceMismatch, forbidden);
        }
        return await workspaces.FindByNameAsync(workspaceName, cancellationToken) ?? throw ApiProblem.NotFound("workspace", workspaceName);
    }

    private static void Validate(string field, int? value, int max)
    {
        if (value is < 0 || value > max)
        {
            throw ApiProblem.Invalid(field, $"{field} is 0 (no limit) to {max}, or null for the installation default.");
        }
    }
}
