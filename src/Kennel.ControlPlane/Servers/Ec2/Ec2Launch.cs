using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Kennel.Contracts.Servers;
using Microsoft.Extensions.Logging;

namespace Kennel.ControlPlane.Servers.Ec2;

/// <summary>
/// add-server-ec2's launch, one logged step at a time (status <c>launching</c>): the AMI (given, or the newest Debian 12
/// for the architecture from Debian's own account), the VPC (the subnet's, or the region's default), a key pair, a
/// security group whose one inbound rule is SSH from one address, the instance, all tagged; then the instance's address
/// and the same bootstrap as add-server over SSH with the new key. A launch that fails, or a bootstrap that does, cleans
/// up everything it created (<see cref="CleanUpAsync"/>), which is also how delete-server removes an EC2 server.
/// </summary>
public sealed partial class Ec2Launch(ServerStore store, ServerBootstrap bootstrap, ServerOptions options, TimeProvider time, ILogger<Ec2Launch> logger)
{
    public const string ServerIdTag = "kennel:server-id";
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    public async Task RunAsync(string id, string name, Ec2Target target, Ec2Credentials credentials, StoredCloud stored, Uri controlPlane,
        CancellationToken cancellationToken)
    {
        var cloud = stored.Cloud;
        using var ec2 = credentials.Client(target.Region, options);
        SshTarget? ssh = null;
        try
        {
            var ami = target.Ami ?? await NewestDebianAsync(id, ec2, target, cancellationToken);
            cloud = cloud with { ImageId = ami };
            var vpc = await VpcAsync(ec2, target, cancellationToken);
            var key = await ec2.CreateKeyPairAsync(new CreateKeyPairRequest
            {
                KeyName = $"kennel-{id}",
                KeyType = KeyType.Ed25519,
                TagSpecifications = [Tags(ResourceType.KeyPair, id, name)],
            }, cancellationToken);
            cloud = await SaveAsync(id, stored, cloud with { KeyName = key.KeyPair.KeyName }, cancellationToken);
            var group = await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest
            {
                GroupName = $"kennel-{id}",
                Description = $"Kennel server {name}: SSH from the control plane only",
                VpcId = vpc,
                TagSpecifications = [Tags(ResourceType.SecurityGroup, id, name)],
            }, cancellationToken);
            cloud = await SaveAsync(id, stored, cloud with { SecurityGroupId = group.GroupId }, cancellationToken);
            await ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest
            {
                GroupId = group.GroupId,
                IpPermissions =
                [
                    new IpPermission
                    {
                        IpProtocol = "tcp",
                        FromPort = 22,
                        ToPort = 22,
                        Ipv4Ranges = target.SshFrom.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                            ? [new IpRange { CidrIp = target.SshCidr, Description = "Kennel control plane" }] : null,
                        Ipv6Ranges = target.SshFrom.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                            ? [new Ipv6Range { CidrIpv6 = target.SshCidr, Description = "Kennel control plane" }] : null,
                    },
                ],
            }, cancellationToken);
            await StepAsync(id, ServerStatuses.Launching, $"Created key pair {key.KeyPair.KeyName} and security group {group.GroupId} in {vpc} " +
                $"(inbound: SSH from {target.SshCidr} only).", cancellationToken);
            var run = await ec2.RunInstancesAsync(new RunInstancesRequest
            {
                ImageId = ami,
                InstanceType = InstanceType.FindValue(target.InstanceType),
                MinCount = 1,
                MaxCount = 1,
                KeyName = key.KeyPair.KeyName,
                SecurityGroupIds = [group.GroupId],
                SubnetId = target.SubnetId,
                TagSpecifications = [Tags(ResourceType.Instance, id, name), Tags(ResourceType.Volume, id, name)],
            }, cancellationToken);
            var instanceId = run.Reservation?.Instances?.FirstOrDefault()?.InstanceId
                ?? throw new ServerConnectionException(ConnectionErrors.LaunchFailed, "EC2 accepted RunInstances but returned no instance.");
            cloud = await SaveAsync(id, stored, cloud with { InstanceId = instanceId }, cancellationToken);
            await StepAsync(id, ServerStatuses.Launching, $"Launched {instanceId} ({target.InstanceType}, {ami}) in {target.Region}; waiting for it to run.",
                cancellationToken);
            var address = await AddressAsync(ec2, instanceId, cancellationToken);
            await store.SetAddressAsync(id, address, cancellationToken);
            await WaitForSshAsync(address, instanceId, cancellationToken);
            await StepAsync(id, ServerStatuses.Launching, $"{instanceId} runs at {address} and accepts SSH.", cancellationToken);
            ssh = SshTarget.Parse(new TestConnectionRequest { Address = address, Username = target.Username, PrivateKey = key.KeyPair.KeyMaterial, TimeoutSeconds = 30 });
        }
        catch (Exception failed) when (failed is AmazonServiceException or AmazonClientException or ServerConnectionException or HttpRequestException)
        {
            var message = failed is AmazonServiceException aws
                ? $"EC2 refused the launch: {aws.ErrorCode}: {aws.Message}"
                : failed is ServerConnectionException known ? known.Message : $"EC2 could not be reached: {failed.Message}";
            await store.StepAsync(id, ServerStatuses.Failed, message, Now(), CancellationToken.None, errorCode: ConnectionErrors.LaunchFailed);
            await CleanUpAsync(id, ec2, cloud, CancellationToken.None);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await store.StepAsync(id, ServerStatuses.Failed, "The control plane stopped during the launch; cleaning up.", Now(), CancellationToken.None,
                errorCode: ConnectionErrors.LaunchFailed);
            await CleanUpAsync(id, ec2, cloud, CancellationToken.None);
            return;
        }
        await bootstrap.RunAsync(id, ssh, name, controlPlane, cancellationToken);
        if ((await store.FindAsync(id, CancellationToken.None))?.Status == ServerStatuses.Failed)
        {
            await CleanUpAsync(id, ec2, cloud, CancellationToken.None);
        }
    }

    /// <summary>
    /// Terminates the instance, then (once it is terminated, since a group in use cannot go) deletes the security group,
    /// and the key pair; each as a step. What fails is said in its step and left for the user, with its id.
    /// </summary>
    public async Task CleanUpAsync(string id, AmazonEC2Client ec2, ServerCloud cloud, CancellationToken cancellationToken)
    {
        var done = new List<string>();
        try
        {
            if (cloud.InstanceId is { } instance)
            {
                await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instance] }, cancellationToken);
                await WaitForStateAsync(ec2, instance, InstanceStateName.Terminated, cancellationToken);
                done.Add($"terminated {instance}");
            }
            if (cloud.SecurityGroupId is { } group)
            {
                await ec2.DeleteSecurityGroupAsync(new DeleteSecurityGroupRequest { GroupId = group }, cancellationToken);
                done.Add($"deleted security group {group}");
            }
            if (cloud.KeyName is { } key)
            {
                await ec2.DeleteKeyPairAsync(new DeleteKeyPairRequest { KeyName = key }, cancellationToken);
                done.Add($"deleted key pair {key}");
            }
            await store.NoteAsync(id, done.Count == 0 ? "Nothing was created in EC2." : $"Cleaned up: {string.Join(", ", done)}.", Now(), cancellationToken);
        }
        catch (Exception failed) when (failed is AmazonServiceException or AmazonClientException or ServerConnectionException or HttpRequestException)
        {
            LogCleanUpFailed(failed, id);
            await store.NoteAsync(id, $"Cleaning up in EC2 failed after {(done.Count == 0 ? "nothing" : string.Join(", ", done))}: {failed.Message} " +
                $"Remove what is left by hand: instance {cloud.InstanceId ?? "-"}, security group {cloud.SecurityGroupId ?? "-"}, key pair {cloud.KeyName ?? "-"} " +
                $"(tagged {ServerIdTag}={id}).", Now(), CancellationToken.None);
        }
    }

    private async Task<string> NewestDebianAsync(string id, AmazonEC2Client ec2, Ec2Target target, CancellationToken cancellationToken)
    {
        var images = await ec2.DescribeImagesAsync(new DescribeImagesRequest
        {
            Owners = [Ec2Target.DebianOwner],
            Filters =
            [
                new Filter("name", [$"debian-12-{(target.Architecture == "arm64" ? "arm64" : "amd64")}-*"]),
                new Filter("architecture", [target.Architecture]),
                new Filter("state", ["available"]),
            ],
        }, cancellationToken);
        var newest = (images.Images ?? []).OrderByDescending(i => i.CreationDate, StringComparer.Ordinal).FirstOrDefault()
            ?? throw new ServerConnectionException(ConnectionErrors.LaunchFailed,
                $"No Debian 12 AMI for {target.Architecture} in {target.Region} (owner {Ec2Target.DebianOwner}): pass ami.");
        await StepAsync(id, ServerStatuses.Launching, $"The newest Debian 12 AMI for {target.Architecture} in {target.Region} is {newest.ImageId} ({newest.Name}).",
            cancellationToken);
        return newest.ImageId;
    }

    private static async Task<string> VpcAsync(AmazonEC2Client ec2, Ec2Target target, CancellationToken cancellationToken)
    {
        if (target.SubnetId is { } subnet)
        {
            var subnets = await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { SubnetIds = [subnet] }, cancellationToken);
            return subnets.Subnets?.FirstOrDefault()?.VpcId
                ?? throw new ServerConnectionException(ConnectionErrors.LaunchFailed, $"Subnet {subnet} does not exist in {target.Region}.");
        }
        var vpcs = await ec2.DescribeVpcsAsync(new DescribeVpcsRequest { Filters = [new Filter("is-default", ["true"])] }, cancellationToken);
        return vpcs.Vpcs?.FirstOrDefault()?.VpcId
            ?? throw new ServerConnectionException(ConnectionErrors.LaunchFailed, $"{target.Region} has no default VPC: pass subnetId.");
    }

    private async Task<string> AddressAsync(AmazonEC2Client ec2, string instanceId, CancellationToken cancellationToken)
    {
        var instance = await WaitForStateAsync(ec2, instanceId, InstanceStateName.Running, cancellationToken);
        return instance.PublicIpAddress ?? instance.PrivateIpAddress
            ?? throw new ServerConnectionException(ConnectionErrors.LaunchFailed, $"{instanceId} runs but has no IP address.");
    }

    private async Task<Instance> WaitForStateAsync(AmazonEC2Client ec2, string instanceId, InstanceStateName state, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.LaunchTimeout;
        while (true)
        {
            var described = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] }, cancellationToken);
            var instance = described.Reservations?.SelectMany(r => r.Instances ?? []).FirstOrDefault(i => i.InstanceId == instanceId);
            if (instance?.State?.Name == state)
            {
                return instance;
            }
            if (instance?.State?.Name == InstanceStateName.Terminated || time.GetUtcNow() > deadline)
            {
                throw new ServerConnectionException(ConnectionErrors.LaunchFailed, string.Create(CultureInfo.InvariantCulture,
                    $"{instanceId} is {instance?.State?.Name?.Value ?? "unknown"}, not {state.Value}, after {options.LaunchTimeout.TotalSeconds:0} s."));
            }
            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    private async Task WaitForSshAsync(string address, string instanceId, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.LaunchTimeout;
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(5));
                await probe.ConnectAsync(address, SshTarget.DefaultPort, attempt.Token);
                return;
            }
            catch (Exception notYet) when ((notYet is System.Net.Sockets.SocketException || (notYet is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                && time.GetUtcNow() < deadline)
            {
                await Task.Delay(Poll, time, cancellationToken);
            }
            catch (Exception never) when (never is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new ServerConnectionException(ConnectionErrors.LaunchFailed,
                    $"{instanceId} at {address} did not accept SSH within {options.LaunchTimeout.TotalSeconds:0} s.");
            }
        }
    }

    private async Task<ServerCloud> SaveAsync(string id, StoredCloud stored, ServerCloud cloud, CancellationToken cancellationToken)
    {
        await store.SetCloudAsync(id, (stored with { Cloud = cloud }).ToJson(), cancellationToken);
        return cloud;
    }

    private static TagSpecification Tags(ResourceType type, string id, string name) => new()
    {
        ResourceType = type,
        Tags = [new Tag("Name", $"kennel-{name}"), new Tag(ServerIdTag, id), new Tag("kennel:managed", "true")],
    };

    private Task StepAsync(string id, string status, string message, CancellationToken cancellationToken) =>
        store.StepAsync(id, status, message, Now(), cancellationToken);

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cleaning up the EC2 resources of server {Id} failed")]
    private partial void LogCleanUpFailed(Exception exception, string id);
}
