using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>
/// A stand-in for EC2 on loopback (Kestrel), for add-server-ec2's tests, since EC2 is a paid cloud service. It speaks
/// the EC2 Query API as the AWS SDK sends it: form-encoded <c>Action=…&amp;Version=2016-11-15</c> POSTs, signed with
/// Signature Version 4 (each request's signature is checked with the test's secret key), answered in XML in the EC2
/// namespace, errors as <c>&lt;Response&gt;&lt;Errors&gt;</c>. It answers from a scripted state: Debian's images, one
/// default VPC, and the key pairs, security groups and instances the calls create. An instance runs at
/// <see cref="InstanceAddress"/> (the test's sshd) and its key pair's private key is <see cref="KeyMaterial"/>, so the
/// bootstrap after the launch is the real one.
/// </summary>
public sealed partial class FakeEc2 : IAsyncDisposable
{
    public const string AccessKeyId = "AKIAKENNELTEST000001";
    public const string SecretAccessKey = "kennel-test-secret-access-key-0000000001";
    public const string DefaultVpc = "vpc-0def0000000000001";
    public const string NewestDebianAmd64 = "ami-0d3b12a0000000002";
    private static readonly XNamespace Ec2 = "http://ec2.amazonaws.com/doc/2016-11-15/";
    private readonly WebApplication app;
    private int sequence;

    private FakeEc2(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Where a launched instance answers: its private address.</summary>
    public string InstanceAddress { get; set; } = "10.0.0.10";

    /// <summary>The private key CreateKeyPair returns.</summary>
    public string KeyMaterial { get; set; } = "";

    /// <summary>Actions that fail, with the EC2 error code to answer.</summary>
    public ConcurrentDictionary<string, string> Failures { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request, in order: its action and form parameters.</summary>
    public ConcurrentQueue<(string Action, IReadOnlyDictionary<string, string> Parameters)> Requests { get; } = new();

    /// <summary>Requests refused for a missing or wrong signature.</summary>
    public int BadSignatures { get; private set; }

    public ConcurrentDictionary<string, string> KeyPairs { get; } = new(StringComparer.Ordinal);

    /// <summary>Security groups by id, with their inbound rules ("tcp 22-22 from 10.1.2.3/32").</summary>
    public ConcurrentDictionary<string, List<string>> SecurityGroups { get; } = new(StringComparer.Ordinal);

    /// <summary>Instances by id, with their state (pending, running, shutting-down, terminated) and security group.</summary>
    public ConcurrentDictionary<string, (string State, string Group, string ImageId, IReadOnlyDictionary<string, string> Tags)> Instances { get; } =
        new(StringComparer.Ordinal);

    public static async Task<FakeEc2> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeEc2? fake = null;
        app.MapPost("/", (HttpContext context) => fake!.HandleAsync(context));
        await app.StartAsync();
        fake = new FakeEc2(app, new Uri(app.Urls.Single() + "/"));
        return fake;
    }

    public IEnumerable<string> Actions => Requests.Select(r => r.Action);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (!SignedCorrectly(context.Request, body))
        {
            BadSignatures++;
            await ErrorAsync(context, 401, "AuthFailure", "AWS was not able to validate the provided access credentials");
            return;
        }
        var form = Encoding.UTF8.GetString(body).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => Uri.UnescapeDataString(pair[0].Replace('+', ' ')), pair => pair.Length > 1 ? Uri.UnescapeDataString(pair[1].Replace('+', ' ')) : "",
                StringComparer.Ordinal);
        var action = form.GetValueOrDefault("Action") ?? "";
        Requests.Enqueue((action, form));
        if (form.GetValueOrDefault("Version") != "2016-11-15")
        {
            await ErrorAsync(context, 400, "InvalidParameterValue", "Version must be 2016-11-15.");
            return;
        }
        if (Failures.TryGetValue(action, out var code))
        {
            await ErrorAsync(context, 400, code, $"Scripted failure of {action}.");
            return;
        }
        var (status, answer) = action switch
        {
            "DescribeImages" => (200, DescribeImages(form)),
            "DescribeVpcs" => (200, Element("vpcSet", Item(new XElement(Ec2 + "vpcId", DefaultVpc), new XElement(Ec2 + "isDefault", "true")))),
            "CreateKeyPair" => CreateKeyPair(form),
            "CreateSecurityGroup" => CreateSecurityGroup(form),
            "AuthorizeSecurityGroupIngress" => Authorize(form),
            "RunInstances" => RunInstances(form),
            "DescribeInstances" => (200, DescribeInstances(form)),
            "TerminateInstances" => (200, Terminate(form)),
            "DeleteSecurityGroup" => DeleteSecurityGroup(form),
            "DeleteKeyPair" => (200, Return(KeyPairs.TryRemove(form.GetValueOrDefault("KeyName") ?? "", out _))),
            _ => (400, null),
        };
        if (answer is null)
        {
            // EC2 answers every client error with 400; the code says which.
            await ErrorAsync(context, 400, status == 409 ? "DependencyViolation" : action is "DescribeImages" or "DescribeVpcs" or "CreateKeyPair" or
                "CreateSecurityGroup" or "AuthorizeSecurityGroupIngress" or "RunInstances" or "DescribeInstances" or "TerminateInstances" or
                "DeleteSecurityGroup" or "DeleteKeyPair" ? "InvalidParameterValue" : "InvalidAction", $"The fake refuses {action} with these parameters.");
            return;
        }
        var document = new XElement(Ec2 + $"{action}Response", new XElement(Ec2 + "requestId", Guid.NewGuid().ToString()), answer);
        context.Response.ContentType = "text/xml;charset=UTF-8";
        await context.Response.WriteAsync(document.ToString(SaveOptions.DisableFormatting));
    }

    private static object[] DescribeImages(Dictionary<string, string> form)
    {
        // Debian's account publishes these; the filter on the name picks the architecture, and the newest is not listed first.
        (string Id, string Name, string Created, string Architecture)[] images =
        [
            ("ami-0d3b12a0000000001", "debian-12-amd64-20250101-1980", "2025-01-01T10:00:00.000Z", "x86_64"),
            (NewestDebianAmd64, "debian-12-amd64-20251110-2294", "2025-11-10T10:00:00.000Z", "x86_64"),
            ("ami-0d3b12a0000000003", "debian-12-arm64-20251110-2294", "2025-11-10T10:00:00.000Z", "arm64"),
        ];
        var owner = form.GetValueOrDefault("Owner.1");
        var name = FilterValue(form, "name");
        var matching = images.Where(i => owner == "136693071363" && (name is null || Regex.IsMatch(i.Name, "^" + Regex.Escape(name).Replace("\\*", ".*", StringComparison.Ordinal) + "$")));
        return [Element("imagesSet", [.. matching.Select(i => Item(
            new XElement(Ec2 + "imageId", i.Id), new XElement(Ec2 + "name", i.Name), new XElement(Ec2 + "creationDate", i.Created),
            new XElement(Ec2 + "architecture", i.Architecture), new XElement(Ec2 + "imageState", "available"), new XElement(Ec2 + "imageOwnerId", "136693071363")))])];
    }

    private (int, object?) CreateKeyPair(Dictionary<string, string> form)
    {
        var name = form.GetValueOrDefault("KeyName");
        if (name is null || !KeyPairs.TryAdd(name, KeyMaterial))
        {
            return (400, null);
        }
        return (200, new object[]
        {
            new XElement(Ec2 + "keyName", name), new XElement(Ec2 + "keyFingerprint", "SHA256:fake"), new XElement(Ec2 + "keyMaterial", KeyMaterial),
            new XElement(Ec2 + "keyPairId", $"key-{Next()}"),
        });
    }

    private (int, object?) CreateSecurityGroup(Dictionary<string, string> form)
    {
        if (form.GetValueOrDefault("VpcId") != DefaultVpc || form.GetValueOrDefault("GroupName") is null)
        {
            return (400, null);
        }
        var id = $"sg-{Next()}";
        SecurityGroups[id] = [];
        return (200, new object[] { new XElement(Ec2 + "return", "true"), new XElement(Ec2 + "groupId", id) });
    }

    private (int, object?) Authorize(Dictionary<string, string> form)
    {
        if (!SecurityGroups.TryGetValue(form.GetValueOrDefault("GroupId") ?? "", out var rules))
        {
            return (400, null);
        }
        for (var p = 1; form.ContainsKey($"IpPermissions.{p}.IpProtocol"); p++)
        {
            var range = $"{form[$"IpPermissions.{p}.IpProtocol"]} {form.GetValueOrDefault($"IpPermissions.{p}.FromPort")}-{form.GetValueOrDefault($"IpPermissions.{p}.ToPort")}";
            for (var r = 1; form.TryGetValue($"IpPermissions.{p}.IpRanges.{r}.CidrIp", out var cidr); r++)
            {
                rules.Add($"{range} from {cidr}");
            }
            for (var r = 1; form.TryGetValue($"IpPermissions.{p}.Ipv6Ranges.{r}.CidrIpv6", out var cidr); r++)
            {
                rules.Add($"{range} from {cidr}");
            }
        }
        return (200, Return(true));
    }

    private (int, object?) RunInstances(Dictionary<string, string> form)
    {
        var group = form.GetValueOrDefault("SecurityGroupId.1") ?? "";
        if (!SecurityGroups.ContainsKey(group) || !KeyPairs.ContainsKey(form.GetValueOrDefault("KeyName") ?? "") ||
            form.GetValueOrDefault("MinCount") != "1" || form.GetValueOrDefault("MaxCount") != "1" || form.GetValueOrDefault("ImageId") is not { } image)
        {
            return (400, null);
        }
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 1; form.TryGetValue($"TagSpecification.{s}.ResourceType", out var type); s++)
        {
            for (var t = 1; type == "instance" && form.TryGetValue($"TagSpecification.{s}.Tag.{t}.Key", out var key); t++)
            {
                tags[key] = form.GetValueOrDefault($"TagSpecification.{s}.Tag.{t}.Value") ?? "";
            }
        }
        var id = $"i-{Next()}";
        Instances[id] = ("pending", group, image, tags);
        return (200, new object[]
        {
            new XElement(Ec2 + "reservationId", $"r-{Next()}"), new XElement(Ec2 + "ownerId", "123456789012"),
            Element("instancesSet", Item(new XElement(Ec2 + "instanceId", id), new XElement(Ec2 + "imageId", image), State("pending"))),
        });
    }

    private XElement DescribeInstances(Dictionary<string, string> form)
    {
        var ids = Enumerable.Range(1, 100).Select(n => form.GetValueOrDefault($"InstanceId.{n}")).TakeWhile(id => id is not null).ToList();
        var items = new List<XElement>();
        foreach (var id in ids)
        {
            if (!Instances.TryGetValue(id!, out var instance))
            {
                continue;
            }
            // Each look moves a starting or stopping instance on by one state, as time does on EC2.
            var next = instance.State switch { "pending" => "running", "shutting-down" => "terminated", var same => same };
            Instances[id!] = instance with { State = next };
            items.Add(Item(new XElement(Ec2 + "reservationId", $"r-{id}"), Element("instancesSet", Item(
                new XElement(Ec2 + "instanceId", id), new XElement(Ec2 + "imageId", instance.ImageId), State(next),
                new XElement(Ec2 + "privateIpAddress", InstanceAddress)))));
        }
        return Element("reservationSet", [.. items]);
    }

    private XElement Terminate(Dictionary<string, string> form)
    {
        var id = form.GetValueOrDefault("InstanceId.1") ?? "";
        if (Instances.TryGetValue(id, out var instance) && instance.State != "terminated")
        {
            Instances[id] = instance with { State = "shutting-down" };
        }
        return Element("instancesSet", Item(new XElement(Ec2 + "instanceId", id), new XElement(Ec2 + "currentState",
            new XElement(Ec2 + "code", "32"), new XElement(Ec2 + "name", "shutting-down"))));
    }

    private (int, object?) DeleteSecurityGroup(Dictionary<string, string> form)
    {
        var id = form.GetValueOrDefault("GroupId") ?? "";
        // As on EC2: a group an instance still uses (one not terminated yet) cannot be deleted.
        if (Instances.Values.Any(i => i.Group == id && i.State != "terminated"))
        {
            return (409, null);
        }
        return SecurityGroups.TryRemove(id, out _) ? (200, Return(true)) : (400, null);
    }

    /// <summary>Checks the Signature Version 4 signature of the request with the test's secret key.</summary>
    private static bool SignedCorrectly(HttpRequest request, byte[] body)
    {
        var authorization = request.Headers.Authorization.ToString();
        var match = AuthorizationPattern().Match(authorization);
        var date = request.Headers["X-Amz-Date"].ToString();
        if (!match.Success || match.Groups["key"].Value != AccessKeyId || date.Length < 8 || match.Groups["date"].Value != date[..8] ||
            match.Groups["service"].Value != "ec2")
        {
            return false;
        }
        var signed = match.Groups["headers"].Value.Split(';');
        var canonicalHeaders = string.Concat(signed.Select(h => $"{h}:{string.Join(',', request.Headers[h].Select(v => Regex.Replace(v!.Trim(), " +", " ")))}\n"));
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
        var canonical = $"POST\n/\n\n{canonicalHeaders}\n{match.Groups["headers"].Value}\n{payloadHash}";
        var scope = $"{match.Groups["date"].Value}/{match.Groups["region"].Value}/ec2/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{date}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + SecretAccessKey);
        foreach (var part in new[] { match.Groups["date"].Value, match.Groups["region"].Value, "ec2", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(match.Groups["signature"].Value));
    }

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml;charset=UTF-8";
        var document = new XElement("Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", code), new XElement("Message", message))),
            new XElement("RequestID", Guid.NewGuid().ToString()));
        await context.Response.WriteAsync(document.ToString(SaveOptions.DisableFormatting));
    }

    private static string? FilterValue(Dictionary<string, string> form, string name)
    {
        for (var f = 1; form.TryGetValue($"Filter.{f}.Name", out var filter); f++)
        {
            if (filter == name)
            {
                return form.GetValueOrDefault($"Filter.{f}.Value.1");
            }
        }
        return null;
    }

    private string Next() => Interlocked.Increment(ref sequence).ToString("x17", CultureInfo.InvariantCulture);

    private static XElement Element(string name, params object[] content) => new(Ec2 + name, content);

    private static XElement Item(params object[] content) => new(Ec2 + "item", content);

    private static XElement State(string name) => new(Ec2 + "instanceState",
        new XElement(Ec2 + "code", name switch { "pending" => "0", "running" => "16", "shutting-down" => "32", _ => "48" }), new XElement(Ec2 + "name", name));

    private static XElement Return(bool value) => new(Ec2 + "return", value ? "true" : "false");

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[A-Z0-9]+)/(?<date>\d{8})/(?<region>[a-z0-9-]+)/(?<service>[a-z0-9]+)/aws4_request, ?SignedHeaders=(?<headers>[a-z0-9;-]+), ?Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();
}
