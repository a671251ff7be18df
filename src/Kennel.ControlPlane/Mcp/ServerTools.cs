using System.ComponentModel;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Servers;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// The server tools of <c>/mcp</c>, with seed 000's names: machines reached over SSH that become workers. For
/// installation admins only, like the workers themselves.
/// </summary>
public static class ServerTools
{
    [McpServerTool(Name = "test-connection", Title = "Test SSH connectivity before adding a server", ReadOnly = false, Destructive = false,
        Idempotent = true, OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(ConnectionTest))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Logs in to a machine over SSH (a real handshake and authentication, with a password or a private key) and reports " +
        "whether it can become a Kennel worker: the host key's SHA-256 fingerprint, the OS, architecture and kernel, root or passwordless " +
        "sudo, whether bubblewrap and cgroups are usable, free memory and disk, and the CPU count. Changes nothing on the machine. " +
        "The first host key seen for an address and port is trusted and remembered; a different key later fails with host_key_mismatch " +
        "unless you pass the new one as expectedHostKey. On failure, ok is false and error.code is one of unreachable, timeout, " +
        "auth_failed, host_key_mismatch, unsupported_os, insufficient_privileges.")]
    public static async Task<CallToolResult> TestConnection(
        ServerService servers,
        ClaimsPrincipal user,
        [Description("The machine's host name or IP address, e.g. 65.108.10.170 or worker1.example.com.")] string address,
        [Description("The SSH port.")] int port = SshTarget.DefaultPort,
        [Description("The user to log in as: root, or a user with passwordless sudo.")] string username = SshTarget.DefaultUsername,
        [Description("The user's password. Give this or privateKey. Used for this test only, never stored or shown.")] string? password = null,
        [Description("A private key file's whole text (OpenSSH, PEM or PuTTY format, at most 16 KiB). Give this or password.")] string? privateKey = null,
        [Description("The private key's passphrase, when it is encrypted.")] string? passphrase = null,
        [Description("The host key fingerprint you expect ('SHA256:…', as 'ssh-keygen -lf' prints it); the connection is refused if the server presents another.")]
        string? expectedHostKey = null,
        [Description("How long to wait for the server to answer, in seconds (1-60).")] int timeoutSeconds = SshTarget.DefaultTimeoutSeconds,
        CancellationToken cancellationToken = default)
    {
        var test = await servers.TestConnectionAsync(Caller.From(user), new TestConnectionRequest
        {
            Address = address,
            Port = port,
            Username = username,
            Password = password,
            PrivateKey = privateKey,
            Passphrase = passphrase,
            ExpectedHostKey = expectedHostKey,
            TimeoutSeconds = timeoutSeconds,
        }, cancellationToken);
        // A failed connection is the test's answer, not a failed call: ok and error say what happened.
        return ToolResults.Of(test, KennelJson.Default.ConnectionTest, ServerText.Of(test));
    }
}
