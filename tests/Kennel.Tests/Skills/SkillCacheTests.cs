using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Workers;
using Kennel.Testing;
using Kennel.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kennel.Tests.Skills;

/// <summary>
/// The worker's skill cache against a real control plane: what it unpacks (modes a sandbox can read and run, nothing it
/// can write) and how it stays bounded without pulling a skill from under a live sandbox.
/// </summary>
public sealed class SkillCacheTests
{
    private const UnixFileMode ReadOnlyForOthers = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode RunnableByOthers = ReadOnlyForOthers | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    [Fact]
    public async Task Skills_unpack_readable_by_others_and_the_least_recently_used_unmounted_one_is_evicted()
    {
        await using var model = await ScriptedProvider.StartAsync();
        await using var server = await SkillWorkers.StartServerAsync(TestStore.Sqlite, model);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        var first = await InstalledSkills.InstallAsync(server, workspace, "first", InstalledSkills.WithScript("first", "one"));
        var second = await InstalledSkills.InstallAsync(server, workspace, "second", InstalledSkills.WithScript("second", "two"));
        var (_, http) = await SkillWorkers.EnrollAsync(server, new WorkerCapacity(4, 4096, 4));
        using var worker = http;
        var directory = Directory.CreateTempSubdirectory("kennel-test-skills-").FullName;
        var cache = new SkillCache(directory, new ControlPlaneClient(worker), NullLogger.Instance, maxEntries: 1);
        try
        {
            model.ThenEvents(ModelScript.Exec("call_1", "true")).ThenEvents(ModelScript.Answer("Done."));
            using var sent = await client.PostAsJsonAsync("/v1/conversations/main/messages?waitMs=0", new SendMessageRequest { Message = "Go." },
                KennelJson.Default.SendMessageRequest);
            var protocol = new ControlPlaneClient(worker);
            var skills = (await SkillWorkers.ClaimAsync(async () => (await protocol.PollAsync(new PollRequest { Held = [] }, CancellationToken.None)).Assignments)).Skills!;
            skills.Select(skill => skill.Name).ShouldBe(["first", "second"]);

            using (var mountedFirst = await cache.MountAsync([skills[0]], CancellationToken.None))
            {
                var tree = mountedFirst.Skills.ShouldHaveSingleItem().Directory;
                File.GetUnixFileMode(tree).ShouldBe(RunnableByOthers);
                File.GetUnixFileMode(Path.Join(tree, "scripts")).ShouldBe(RunnableByOthers);
                File.GetUnixFileMode(Path.Join(tree, "scripts", "x.sh")).ShouldBe(RunnableByOthers);
                File.GetUnixFileMode(Path.Join(tree, "SKILL.md")).ShouldBe(ReadOnlyForOthers);
                File.GetUnixFileMode(cache.ArchivePath(first)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

                // Over the cap of one, but the first is mounted: it stays.
                using var mountedSecond = await cache.MountAsync([skills[1]], CancellationToken.None);
                Directory.Exists(tree).ShouldBeTrue();
                File.Exists(cache.ArchivePath(second)).ShouldBeTrue();
            }

            using (var again = await cache.MountAsync([skills[1]], CancellationToken.None))
            {
                Directory.Exists(Path.Join(directory, "trees", first)).ShouldBeFalse();
                File.Exists(cache.ArchivePath(first)).ShouldBeFalse();
                Directory.Exists(again.Skills.ShouldHaveSingleItem().Directory).ShouldBeTrue();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
