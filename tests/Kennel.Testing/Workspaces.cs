using Kennel.Contracts.ApiKeys;

namespace Kennel.Testing;

/// <summary>Fresh tenants on a shared server, so tests that share one server cannot see each other's sessions.</summary>
public static class Workspaces
{
    /// <summary>A client whose key belongs to a new, empty workspace, issued by the server's bootstrap admin key.</summary>
    public static async Task<HttpClient> NewWorkspaceClientAsync(this TestServer server, params string[] scopes)
    {
        using var admin = server.Client();
        var created = await admin.CreateApiKeyAsync($"t-{Guid.NewGuid():N}"[..20], scopes.Length > 0 ? scopes : [Scopes.Read, Scopes.Write]);
        return server.Client(created.Key);
    }
}
