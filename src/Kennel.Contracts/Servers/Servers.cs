namespace Kennel.Contracts.Servers;

/// <summary>
/// How to reach a machine over SSH: its address (a host name or an IP address), port and user, and either a password or
/// a private key (with its passphrase, if it has one). <see cref="ExpectedHostKey"/> pins the host key
/// (<c>SHA256:…</c>, as <c>ssh-keygen -lf</c> prints it); without it the first key seen is trusted and remembered.
/// </summary>
public record TestConnectionRequest
{
    public string? Address { get; init; }
    public int? Port { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? PrivateKey { get; init; }
    public string? Passphrase { get; init; }
    public string? ExpectedHostKey { get; init; }
    public int? TimeoutSeconds { get; init; }
}

/// <summary>
/// The outcome of <c>test-connection</c>: <see cref="Ok"/> only when Kennel logged in and the machine can become a
/// worker. <see cref="Error"/> says why not, with one of <see cref="ConnectionErrors"/>; what was learned before the
/// failure (the host key, the system) is still reported.
/// </summary>
public sealed record ConnectionTest
{
    public required bool Ok { get; init; }
    public required string Address { get; init; }
    public required int Port { get; init; }
    public required string Username { get; init; }
    public HostKey? HostKey { get; init; }
    public ServerSystem? System { get; init; }
    public ConnectionError? Error { get; init; }
    public required long ElapsedMs { get; init; }
}

/// <summary>
/// The host key the server presented: its algorithm, its SHA-256 fingerprint in OpenSSH's form, and how Kennel trusted
/// it: <c>pinned</c> (it matched expectedHostKey), <c>known</c> (it matched the key remembered for this address and
/// port) or <c>new</c> (first use: now remembered).
/// </summary>
public sealed record HostKey(string Algorithm, string Fingerprint, string Trust);

public sealed record ConnectionError(string Code, string Message);

/// <summary>What the machine is, as a probe over SSH read it.</summary>
public sealed record ServerSystem
{
    public required string Os { get; init; }
    public string? Distribution { get; init; }
    public string? Version { get; init; }
    public required string Architecture { get; init; }
    public required string Kernel { get; init; }
    public required bool Root { get; init; }
    public required bool PasswordlessSudo { get; init; }
    public required bool Systemd { get; init; }
    public string? PackageManager { get; init; }
    public required bool BubblewrapInstalled { get; init; }
    public required bool BubblewrapUsable { get; init; }
    /// <summary><c>v2</c>, <c>v1</c>, <c>hybrid</c> or <c>none</c>.</summary>
    public required string Cgroups { get; init; }
    public required bool CgroupsUsable { get; init; }
    public required long MemoryTotalMb { get; init; }
    public required long MemoryAvailableMb { get; init; }
    public required long DiskFreeMb { get; init; }
    public required int Cpus { get; init; }
}

/// <summary>The codes of <see cref="ConnectionError"/> and of a server's failed step.</summary>
public static class ConnectionErrors
{
    public const string Unreachable = "unreachable";
    public const string Timeout = "timeout";
    public const string AuthFailed = "auth_failed";
    public const string HostKeyMismatch = "host_key_mismatch";
    public const string UnsupportedOs = "unsupported_os";
    public const string InsufficientPrivileges = "insufficient_privileges";

    /// <summary>A step of add-server's bootstrap failed on the machine (a command, the upload's hash, the worker never polling).</summary>
    public const string BootstrapFailed = "bootstrap_failed";

    /// <summary>A command Kennel ran on the machine wrote more than Kennel reads (1 MiB per stream): it was stopped, and its output dropped.</summary>
    public const string OutputTooLarge = "output_too_large";

    /// <summary>add-server-ec2: EC2 refused a call or the instance did not start; what was created is cleaned up.</summary>
    public const string LaunchFailed = "launch_failed";
}

/// <summary>
/// <c>add-server</c>: how to reach the machine (as <see cref="TestConnectionRequest"/>), the name it gets, whether Kennel
/// keeps the credential (encrypted) after the bootstrap, and the control plane's URL as the machine reaches it (default
/// <c>KENNEL_EXTERNAL_URL</c>).
/// </summary>
public sealed record AddServerRequest : TestConnectionRequest
{
    public string? Name { get; init; }
    public bool? KeepCredential { get; init; }
    public string? ControlPlaneUrl { get; init; }
}

/// <summary>
/// A server as every API shows it: where it is, how far its bootstrap got (<see cref="Status"/>, <see cref="LastStep"/>),
/// the worker it became, and never its credential.
/// </summary>
public sealed record Server
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Address { get; init; }
    public required int Port { get; init; }
    public required string Username { get; init; }
    /// <summary><c>password</c> or <c>private_key</c>.</summary>
    public required string AuthMethod { get; init; }
    public required bool CredentialKept { get; init; }
    /// <summary><c>provisioning</c>, <c>connecting</c>, <c>bootstrapping</c>, <c>enrolling</c>, <c>ready</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }
    public ServerStep? LastStep { get; init; }
    public ConnectionError? Error { get; init; }
    public string? HostKey { get; init; }
    public ServerSystem? System { get; init; }
    public Workers.Worker? Worker { get; init; }

    /// <summary>For a server add-server-ec2 launched: where, and what Kennel created for it.</summary>
    public ServerCloud? Cloud { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record ServerStep(int Seq, DateTimeOffset At, string Status, string Message);

public sealed record ServerList(IReadOnlyList<Server> Items);

public sealed record ServerSteps(IReadOnlyList<ServerStep> Items);

public static class ServerStatuses
{
    public const string Provisioning = "provisioning";

    /// <summary>add-server-ec2: the instance, its security group and key pair are being created, and the instance started.</summary>
    public const string Launching = "launching";
    public const string Connecting = "connecting";
    public const string Bootstrapping = "bootstrapping";
    public const string Enrolling = "enrolling";
    public const string Ready = "ready";
    public const string Failed = "failed";

    /// <summary>delete-server: the worker takes no new sessions, and those it runs have a grace period to finish.</summary>
    public const string Draining = "draining";

    /// <summary>delete-server: the worker service is stopped on the machine and the worker removed; then the server is gone.</summary>
    public const string Deleting = "deleting";
}

/// <summary>An EC2 instance Kennel launched for a server, with the security group and key pair it created for it.</summary>
public sealed record ServerCloud(string Provider, string Region, string? InstanceId, string? SecurityGroupId, string? KeyName, string? ImageId);

/// <summary>
/// add-server-ec2: launches an EC2 instance and makes it a worker. The AWS credentials are secrets of the caller's
/// workspace, named by <see cref="AccessKeyIdSecret"/> and <see cref="SecretAccessKeySecret"/>.
/// </summary>
public sealed record AddServerEc2Request
{
    public string? Name { get; init; }
    public string? Region { get; init; }
    public string? InstanceType { get; init; }

    /// <summary>x86_64 or arm64: which Debian 12 AMI is looked up when <see cref="Ami"/> is not given.</summary>
    public string? Architecture { get; init; }
    public string? Ami { get; init; }

    /// <summary>The subnet to launch in; without it, the region's default VPC.</summary>
    public string? SubnetId { get; init; }

    /// <summary>The AMI's login user (Debian's: admin).</summary>
    public string? Username { get; init; }

    /// <summary>The one address SSH is opened to (the control plane's, as the instance sees it); default: the control plane URL's host.</summary>
    public string? SshFrom { get; init; }
    public string? ControlPlaneUrl { get; init; }
    public string? AccessKeyIdSecret { get; init; }
    public string? SecretAccessKeySecret { get; init; }
}
