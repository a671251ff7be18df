using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.EC2;
using Amazon.Runtime;
using Kennel.Contracts.Servers;

namespace Kennel.ControlPlane.Servers.Ec2;

/// <summary>
/// What the store keeps of a launched server (<c>servers.cloud</c>): what Kennel created, and where the AWS credentials
/// are (secret names of a workspace), never the credentials themselves.
/// </summary>
public sealed record StoredCloud(ServerCloud Cloud, string WorkspaceId, string AccessKeyIdSecret, string SecretAccessKeySecret)
{
    public string ToJson() => JsonSerializer.Serialize(this, Ec2Json.Default.StoredCloud);

    public static StoredCloud? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize(json, Ec2Json.Default.StoredCloud);
}

/// <summary>AWS credentials read from a workspace's secrets, for one launch or one termination; in memory only.</summary>
public sealed record Ec2Credentials(string AccessKeyId, string SecretAccessKey)
{
    public override string ToString() => $"Ec2Credentials {{ AccessKeyId = {AccessKeyId} }}";

    /// <summary>A client for the region, or for <see cref="ServerOptions.Ec2ServiceUrl"/> when set.</summary>
    public AmazonEC2Client Client(string region, ServerOptions options)
    {
        var config = new AmazonEC2Config { MaxErrorRetry = 2 };
        if (options.Ec2ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }
        return new AmazonEC2Client(new BasicAWSCredentials(AccessKeyId, SecretAccessKey), config);
    }
}

/// <summary>Reads the AWS credentials from a workspace's secrets (<see cref="Secrets.SecretService.ResolveAsync"/>).</summary>
public sealed class Ec2CredentialStore(Secrets.SecretService secrets)
{
    public sealed record Result(Ec2Credentials? Credentials, string? Missing);

    public async Task<Result> ResolveAsync(string workspaceId, string accessKeyIdName, string secretAccessKeyName, CancellationToken cancellationToken)
    {
        var resolved = await secrets.ResolveAsync(workspaceId, [accessKeyIdName, secretAccessKeyName], cancellationToken);
        foreach (var name in new[] { accessKeyIdName, secretAccessKeyName })
        {
            if (!resolved.Values.ContainsKey(name))
            {
                return new Result(null, name);
            }
        }
        return new Result(new Ec2Credentials(resolved.Values[accessKeyIdName], resolved.Values[secretAccessKeyName]), null);
    }
}

[JsonSerializable(typeof(StoredCloud))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class Ec2Json : JsonSerializerContext
{
}
