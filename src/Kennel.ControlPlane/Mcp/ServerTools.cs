using System.ComponentModel;
using System.Security.Claims;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Servers;
using Kennel.ControlPlane.Servers.Ec2;
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

    [McpServerTool(Name = "add-server", Title = "Add a worker via SSH (password or private key)", ReadOnly = false, Destructive = false,
        Idempotent = false, OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(Server))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Makes a machine a Kennel worker over SSH, and answers at once with the server in status provisioning. In the background " +
        "it goes connecting (login, host key check, probe) -> bootstrapping (uploads this control plane's kennel build, checked by SHA-256; " +
        "installs bubblewrap and libseccomp with the machine's package manager) -> enrolling (a one-time token, the worker started as a " +
        "systemd service, or a supervised script started at boot by cron without systemd) -> ready once the worker has polled, or failed " +
        "with error.code. Call list-servers to follow it. The password or key is used for the bootstrap and then forgotten, unless keepCredential " +
        "is true (then it is kept encrypted). Run test-connection first to check the machine.")]
    public static async Task<CallToolResult> AddServer(
        ServerService servers,
        ClaimsPrincipal user,
        [Description("The machine's host name or IP address.")] string address,
        [Description("The name of the server and of the worker it becomes (default: the address).")] string? name = null,
        [Description("The SSH port.")] int port = SshTarget.DefaultPort,
        [Description("The user to log in as: root, or a user with passwordless sudo.")] string username = SshTarget.DefaultUsername,
        [Description("The user's password. Give this or privateKey.")] string? password = null,
        [Description("A private key file's whole text (at most 16 KiB). Give this or password.")] string? privateKey = null,
        [Description("The private key's passphrase, when it is encrypted.")] string? passphrase = null,
        [Description("The host key fingerprint you expect ('SHA256:…'); without it the first key seen is trusted.")] string? expectedHostKey = null,
        [Description("Keep the password or key, encrypted, after the bootstrap (default: forget it).")] bool keepCredential = false,
        [Description("The URL at which the machine reaches this control plane (default: KENNEL_EXTERNAL_URL).")] string? controlPlaneUrl = null,
        [Description("How long to wait for the server to answer, in seconds (1-60).")] int timeoutSeconds = SshTarget.DefaultTimeoutSeconds,
        CancellationToken cancellationToken = default)
    {
        var server = await servers.AddAsync(Caller.From(user), new AddServerRequest
        {
            Address = address,
            Name = name,
            Port = port,
            Username = username,
            Password = password,
            PrivateKey = privateKey,
            Passphrase = passphrase,
            ExpectedHostKey = expectedHostKey,
            KeepCredential = keepCredential,
            ControlPlaneUrl = controlPlaneUrl,
            TimeoutSeconds = timeoutSeconds,
        }, cancellationToken);
        return ToolResults.Of(server, KennelJson.Default.Server, ServerText.Of(server));
    }

    [McpServerTool(Name = "add-server-ec2", Title = "Launch an EC2 instance and add it as a worker", ReadOnly = false, Destructive = false,
        Idempotent = false, OpenWorld = true, UseStructuredContent = true, OutputSchemaType = typeof(Server))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Launches an EC2 instance and makes it a Kennel worker; answers at once with the server in status provisioning. In the " +
        "background it goes launching (the AMI: the one given or the newest Debian 12 for the architecture; a key pair; a security group " +
        "whose only inbound rule is SSH from sshFrom; the instance, all tagged kennel:server-id) -> connecting -> bootstrapping -> enrolling -> " +
        "ready, as add-server does, or failed with error.code (launch_failed when EC2 refused). A failed launch or bootstrap terminates the " +
        "instance and deletes the group and key pair; so does delete-server. The AWS credentials are secrets of this workspace " +
        "(default names AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), never shown.")]
    public static async Task<CallToolResult> AddServerEc2(
        ServerService servers,
        ClaimsPrincipal user,
        [Description("The AWS region, e.g. eu-central-1.")] string region,
        [Description("The EC2 instance type.")] string instanceType = Ec2Target.DefaultInstanceType,
        [Description("x86_64 or arm64 (default: arm64 for Graviton instance types, else x86_64).")] string? architecture = null,
        [Description("The AMI (default: the newest Debian 12 for the architecture, looked up in Debian's account).")] string? ami = null,
        [Description("The subnet to launch in (default: the region's default VPC).")] string? subnetId = null,
        [Description("The AMI's login user (Debian's is admin).")] string username = Ec2Target.DefaultUsername,
        [Description("The one IP address the instance's SSH port is opened to: the control plane's, as the instance sees it (default: the control plane URL's host).")]
        string? sshFrom = null,
        [Description("The name of the server and of the worker it becomes.")] string? name = null,
        [Description("The URL at which the instance reaches this control plane (default: KENNEL_EXTERNAL_URL).")] string? controlPlaneUrl = null,
        [Description("The workspace secret holding the AWS access key id.")] string accessKeyIdSecret = Ec2Target.DefaultAccessKeyIdSecret,
        [Description("The workspace secret holding the AWS secret access key.")] string secretAccessKeySecret = Ec2Target.DefaultSecretAccessKeySecret,
        CancellationToken cancellationToken = default)
    {
        var server = await servers.AddEc2Async(Caller.From(user), new AddServerEc2Request
        {
            Region = region,
            InstanceType = instanceType,
            Architecture = architecture,
            Ami = ami,
            SubnetId = subnetId,
            Username = username,
            SshFrom = sshFrom,
            Name = name,
            ControlPlaneUrl = controlPlaneUrl,
            AccessKeyIdSecret = accessKeyIdSecret,
            SecretAccessKeySecret = secretAccessKeySecret,
        }, cancellationToken);
        return ToolResults.Of(server, KennelJson.Default.Server, ServerText.Of(server));
    }

    [McpServerTool(Name = "list-servers", Title = "List registered servers with status", ReadOnly = true, Destructive = false, Idempotent = true,
        OpenWorld = false, UseStructuredContent = true, OutputSchemaType = typeof(ServerList))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Lists the servers added with add-server: address, status (provisioning, connecting, bootstrapping, enrolling, ready, failed) " +
        "and its last step, the error of a failed one, the host key fingerprint, the machine, and the worker it became (health, capacity, " +
        "what running sessions use). Never a credential.")]
    public static async Task<CallToolResult> ListServers(ServerService servers, ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        var list = await servers.ListAsync(Caller.From(user), cancellationToken);
        return ToolResults.Of(list, KennelJson.Default.ServerList, list.Items.Count == 0 ? "No servers." : string.Join("\n\n", list.Items.Select(ServerText.Of)));
    }

    [McpServerTool(Name = "delete-server", Title = "Remove a server", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(Server))]
    [RequiresScope(Scopes.Admin)]
    [InstallationOnly]
    [Description("Removes a server. One that never became a worker goes at once. Otherwise it drains in the background (status draining): " +
        "its worker takes no new sessions, the sessions it runs have graceSeconds to finish and are then cancelled (error server_deleted); " +
        "then (status deleting) the worker service is stopped and disabled over SSH when the credential was kept, and the worker is removed, " +
        "so its credential stops working; then the server is gone. skipDrain cancels the running sessions at once. Follow it with list-servers.")]
    public static async Task<CallToolResult> DeleteServer(
        ServerService servers,
        ClaimsPrincipal user,
        [Description("The server id (srv_…), as add-server or list-servers returned it.")] string id,
        [Description("Cancel the sessions the worker runs now, without a grace period.")] bool skipDrain = false,
        [Description("Seconds the running sessions have to finish before they are cancelled (0-600).")] int graceSeconds = ServerService.DefaultGraceSeconds,
        CancellationToken cancellationToken = default)
    {
        var server = await servers.DeleteAsync(Caller.From(user), id, skipDrain, graceSeconds, cancellationToken);
        return ToolResults.Of(server, KennelJson.Default.Server, server.Status is ServerStatuses.Draining or ServerStatuses.Deleting
            ? $"Draining {ServerText.Of(server)}"
            : $"Deleted {ServerText.Of(server)}");
    }
}
