using System.Text.Json;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Servers;
using Kennel.ControlPlane.Servers.Ec2;
using Kennel.Testing;

namespace Kennel.Tests.Servers;

/// <summary>
/// add-server-ec2 against <see cref="FakeEc2"/>, which speaks the EC2 Query API and checks each request's signature, and
/// whose instance is the test's real sshd, so the bootstrap after the launch is the real one. The AWS credentials are
/// secrets of the workspace.
/// </summary>
public sealed class Ec2ServerTests(TestSshd sshd) : IClassFixture<TestSshd>
{
    [Fact]
    public async Task A_launch_with_the_newest_debian_and_ssh_open_to_the_control_plane_only_becomes_ready_and_delete_terminates_it()
    {
        await using var ec2 = await FakeEc2.StartAsync();
        ec2.InstanceAddress = sshd.Address;
        ec2.KeyMaterial = sshd.Key;
        var launcher = Path.Combine(Path.GetTempPath(), $"kennel-launcher-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(launcher, $"#!/bin/sh\nexec dotnet {KennelProcess.KennelDll} \"$@\"\n");
        try
        {
            await using var server = await StartAsync(ec2, launcher);
            using var admin = server.Client();

            var added = await admin.AddServerEc2Async(new AddServerEc2Request
            {
                Name = "ec2-box",
                Region = "eu-central-1",
                Username = "root",
                ControlPlaneUrl = server.Url.ToString(),
            });
            var ready = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(150));
            var steps = (await admin.ServerStepsAsync(added.Id)).Items;

            added.Status.ShouldBe(ServerStatuses.Provisioning);
            added.Cloud!.Provider.ShouldBe("ec2");
            ready.Status.ShouldBe(ServerStatuses.Ready, string.Join('\n', steps.Select(s => $"{s.Status}: {s.Message}")));
            steps.Select(s => s.Status).Distinct().ShouldBe([ServerStatuses.Provisioning, ServerStatuses.Launching, ServerStatuses.Connecting,
                ServerStatuses.Bootstrapping, ServerStatuses.Enrolling, ServerStatuses.Ready]);
            steps.ShouldContain(s => s.Message.Contains(FakeEc2.NewestDebianAmd64, StringComparison.Ordinal));
            ready.Address.ShouldBe(sshd.Address);
            ready.Cloud!.ImageId.ShouldBe(FakeEc2.NewestDebianAmd64);
            ready.Worker!.Name.ShouldBe("ec2-box");
            var instance = ec2.Instances[ready.Cloud.InstanceId!];
            instance.ImageId.ShouldBe(FakeEc2.NewestDebianAmd64);
            instance.Tags[Ec2Launch.ServerIdTag].ShouldBe(added.Id);
            ec2.SecurityGroups[ready.Cloud.SecurityGroupId!].ShouldBe([$"tcp 22-22 from {sshd.HostSideAddress}/32"]);
            ec2.KeyPairs.Keys.ShouldBe([ready.Cloud.KeyName!]);
            ec2.BadSignatures.ShouldBe(0);
            var shown = JsonSerializer.Serialize(await admin.ListServersAsync()) + JsonSerializer.Serialize(steps);
            shown.ShouldNotContain(FakeEc2.SecretAccessKey);
            shown.ShouldNotContain(sshd.Key.Split('\n')[1]);

            using (var deleting = await admin.DeleteAsync($"/v1/servers/{added.Id}?skipDrain=true"))
            {
                ((int)deleting.StatusCode).ShouldBe(202);
            }
            (await admin.WaitForServerGoneAsync(added.Id, TimeSpan.FromSeconds(120))).ShouldBeTrue();
            ec2.Instances[ready.Cloud.InstanceId!].State.ShouldBe("terminated");
            ec2.SecurityGroups.ShouldBeEmpty();
            ec2.KeyPairs.ShouldBeEmpty();
            ec2.Actions.ShouldContain("TerminateInstances");
        }
        finally
        {
            File.Delete(launcher);
        }
    }

    [Fact]
    public async Task A_launch_that_ec2_refuses_fails_with_launch_failed_and_deletes_the_group_and_key_pair_it_created()
    {
        await using var ec2 = await FakeEc2.StartAsync();
        ec2.Failures["RunInstances"] = "InsufficientInstanceCapacity";
        await using var server = await StartAsync(ec2, "/nonexistent");
        using var admin = server.Client();

        var added = await admin.AddServerEc2Async(new AddServerEc2Request { Region = "eu-central-1", Username = "root", ControlPlaneUrl = server.Url.ToString() });
        var failed = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(60));
        var steps = (await admin.ServerStepsAsync(added.Id)).Items;

        failed.Status.ShouldBe(ServerStatuses.Failed);
        failed.Error!.Code.ShouldBe(ConnectionErrors.LaunchFailed);
        failed.Error.Message.ShouldContain("InsufficientInstanceCapacity");
        steps[^1].Message.ShouldContain("Cleaned up");
        ec2.SecurityGroups.ShouldBeEmpty();
        ec2.KeyPairs.ShouldBeEmpty();
        ec2.Instances.ShouldBeEmpty();
        using var deleted = await admin.DeleteAsync($"/v1/servers/{added.Id}");
        ((int)deleted.StatusCode).ShouldBe(200);
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_by_the_signature_check_and_nothing_is_left()
    {
        await using var ec2 = await FakeEc2.StartAsync();
        await using var server = await StartAsync(ec2, "/nonexistent");
        using var admin = server.Client();
        await admin.SetSecretAsync("AWS_SECRET_ACCESS_KEY", "not-the-secret-key");

        var added = await admin.AddServerEc2Async(new AddServerEc2Request { Region = "eu-central-1", Username = "root", ControlPlaneUrl = server.Url.ToString() });
        var failed = await admin.WaitForServerAsync(added.Id, TimeSpan.FromSeconds(60));

        failed.Error!.Code.ShouldBe(ConnectionErrors.LaunchFailed);
        failed.Error.Message.ShouldContain("AuthFailure");
        JsonSerializer.Serialize(await admin.ServerStepsAsync(added.Id)).ShouldNotContain("not-the-secret-key");
        ec2.BadSignatures.ShouldBeGreaterThan(0);
        ec2.SecurityGroups.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"region": "mars-north-1x"}""", "region")]
    [InlineData("""{"region": "eu-central-1", "instanceType": "huge"}""", "instanceType")]
    [InlineData("""{"region": "eu-central-1", "architecture": "sparc"}""", "architecture")]
    [InlineData("""{"region": "eu-central-1", "ami": "ami-xyz"}""", "ami")]
    [InlineData("""{"region": "eu-central-1", "subnetId": "sub-1"}""", "subnetId")]
    [InlineData("""{"region": "eu-central-1", "sshFrom": "0.0.0.0"}""", "sshFrom")]
    [InlineData("""{"region": "eu-central-1", "sshFrom": "10.0.0.0/8"}""", "sshFrom")]
    [InlineData("""{"region": "eu-central-1", "username": "-root"}""", "username")]
    [InlineData("""{"region": "eu-central-1", "accessKeyIdSecret": "NOT_SET"}""", "accessKeyIdSecret")]
    [InlineData("""{"region": "eu-central-1", "secretAccessKeySecret": "bad name"}""", "secretAccessKeySecret")]
    [InlineData("""{"region": "eu-central-1", "name": "bad name"}""", "name")]
    public async Task Bad_input_is_refused_naming_the_field_and_nothing_is_launched(string body, string field)
    {
        await using var ec2 = await FakeEc2.StartAsync();
        await using var server = await StartAsync(ec2, "/nonexistent");
        using var admin = server.Client();
        await admin.SetSecretAsync("AWS_ACCESS_KEY_ID", FakeEc2.AccessKeyId);
        await admin.SetSecretAsync("AWS_SECRET_ACCESS_KEY", FakeEc2.SecretAccessKey);
        var withUrl = body.Replace("{", $$"""{"controlPlaneUrl": "{{server.Url}}", """, StringComparison.Ordinal);

        using var response = await admin.PostRawAsync("/v1/servers/ec2", withUrl);

        await response.ShouldBeProblemAsync(400, "invalid_request", field);
        (await admin.ListServersAsync()).Items.ShouldBeEmpty();
        ec2.Requests.ShouldBeEmpty();
    }

    private Task<TestServer> StartAsync(FakeEc2 ec2, string binary) => TestServer.StartAsync(TestStore.Sqlite, s => s with
    {
        Listen = $"{sshd.HostSideAddress}:0",
        EmbeddedWorker = false,
        Servers = new ServerOptions
        {
            WorkerBinaries = new Dictionary<string, string> { ["x86_64"] = binary, ["aarch64"] = binary },
            ReadyTimeout = TimeSpan.FromSeconds(90),
            Ec2ServiceUrl = ec2.Url.ToString(),
            LaunchTimeout = TimeSpan.FromSeconds(60),
        },
    });
}
