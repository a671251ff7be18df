using System.Net;
using System.Text.RegularExpressions;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Servers.Ec2;

/// <summary>
/// A validated add-server-ec2 request: every field checked at the edge with the field at fault named, so nothing after
/// it sends EC2 a value that is not one. The credentials are resolved from the workspace's secrets by the service.
/// </summary>
public sealed partial record Ec2Target(string Region, string InstanceType, string Architecture, string? Ami, string? SubnetId, string Username,
    IPAddress SshFrom, string AccessKeyIdSecret, string SecretAccessKeySecret)
{
    public const string DefaultInstanceType = "t3.small";
    public const string DefaultUsername = "admin";
    public const string DefaultAccessKeyIdSecret = "AWS_ACCESS_KEY_ID";
    public const string DefaultSecretAccessKeySecret = "AWS_SECRET_ACCESS_KEY";

    /// <summary>Debian's AWS account, which publishes the official Debian AMIs.</summary>
    public const string DebianOwner = "136693071363";

    public static Ec2Target Parse(AddServerEc2Request request, Uri controlPlane)
    {
        var region = request.Region is { } r && RegionPattern().IsMatch(r) ? r
            : throw ApiProblem.Invalid("region", "region is an AWS region such as eu-central-1.");
        var type = request.InstanceType ?? DefaultInstanceType;
        if (!InstanceTypePattern().IsMatch(type))
        {
            throw ApiProblem.Invalid("instanceType", "instanceType is an EC2 instance type such as t3.small or c7g.large.");
        }
        var architecture = request.Architecture ?? (GravitonPattern().IsMatch(type) ? "arm64" : "x86_64");
        if (architecture is not ("x86_64" or "arm64"))
        {
            throw ApiProblem.Invalid("architecture", "architecture is x86_64 or arm64.");
        }
        if (request.Ami is { } ami && !AmiPattern().IsMatch(ami))
        {
            throw ApiProblem.Invalid("ami", "ami is an image id such as ami-0123456789abcdef0.");
        }
        if (request.SubnetId is { } subnet && !SubnetPattern().IsMatch(subnet))
        {
            throw ApiProblem.Invalid("subnetId", "subnetId is a subnet id such as subnet-0123456789abcdef0.");
        }
        var username = request.Username ?? DefaultUsername;
        if (!SshTarget.IsUsername(username))
        {
            throw ApiProblem.Invalid("username", "username must be 1-32 characters of letters, digits, '_', '.' and '-', not starting with '-' or '.'.");
        }
        var from = request.SshFrom ?? controlPlane.Host.Trim('[', ']');
        if (!IPAddress.TryParse(from, out var sshFrom) || sshFrom.Equals(IPAddress.Any) || sshFrom.Equals(IPAddress.IPv6Any) ||
            sshFrom.Equals(IPAddress.Broadcast) || from.Contains('/', StringComparison.Ordinal))
        {
            throw ApiProblem.Invalid("sshFrom", request.SshFrom is null
                ? "sshFrom is required when the control plane URL's host is not an IP address: the one address the instance's SSH port is opened to."
                : "sshFrom is one IP address (the control plane's, as the instance sees it), not a range: SSH is opened to that address only.");
        }
        return new Ec2Target(region, type, architecture, request.Ami, request.SubnetId, username, sshFrom,
            SecretName(request.AccessKeyIdSecret ?? DefaultAccessKeyIdSecret, "accessKeyIdSecret"),
            SecretName(request.SecretAccessKeySecret ?? DefaultSecretAccessKeySecret, "secretAccessKeySecret"));
    }

    /// <summary>The one range SSH is opened to: the single address.</summary>
    public string SshCidr => SshFrom.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"{SshFrom}/128" : $"{SshFrom}/32";

    private static string SecretName(string name, string field) => SecretNamePattern().IsMatch(name) ? name
        : throw ApiProblem.Invalid(field, $"{field} is the name of a secret of this workspace (letters, digits and '_').");

    [GeneratedRegex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,15}\\.[a-z0-9]{1,16}$")]
    private static partial Regex InstanceTypePattern();

    // Graviton families: a 'g' after the generation digit (t4g, c7g, m7gd, r8g…), but not the GPU families (g4dn, g5).
    [GeneratedRegex("^[a-z]+[0-9]+g[a-z]*\\.")]
    private static partial Regex GravitonPattern();

    [GeneratedRegex("^ami-[0-9a-f]{8,17}$")]
    private static partial Regex AmiPattern();

    [GeneratedRegex("^subnet-[0-9a-f]{8,17}$")]
    private static partial Regex SubnetPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex SecretNamePattern();
}
