using System.Formats.Tar;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Kennel.Contracts;
using Kennel.Contracts.Conversations;
using Kennel.Contracts.Sessions;
using Kennel.Testing;
using Kennel.Tests.Config;
using Kennel.Worker;

namespace Kennel.Tests.Skills;

/// <summary>
/// An agent's <c>exec</c> sees the agent's installed skills read-only under <c>/skills/</c>: a real server, a scripted
/// model, the embedded worker fetching each archive by hash over the worker protocol, and real bubblewrap sandboxes.
/// </summary>
public sealed class SkillMountTests(ChatServers servers) : IClassFixture<ChatServers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_agents_exec_reads_its_skill_and_runs_its_script_but_cannot_write_there(string store)
    {
        var server = await servers.GetAsync(store);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        await InstalledSkills.InstallAsync(server, workspace, "demo-skill", InstalledSkills.WithScript("demo-skill", "skill-script-ran"));

        var session = await ExecAsync(client,
            "cat /skills/demo-skill/SKILL.md; /skills/demo-skill/scripts/x.sh; " +
            "touch /skills/demo-skill/new 2>/dev/null || echo write-refused; mkdir /skills/extra 2>/dev/null || echo add-refused; " +
            "rm /skills/demo-skill/SKILL.md 2>/dev/null || echo remove-refused; ls /skills");

        session.Status.ShouldBe(SessionStatus.Succeeded, session.Stderr);
        session.Stdout.ShouldContain("description: Does a demo thing.");
        session.Stdout.ShouldContain("skill-script-ran");
        session.Stdout.ShouldContain("write-refused");
        session.Stdout.ShouldContain("add-refused");
        session.Stdout.ShouldContain("remove-refused");
        session.Stdout.TrimEnd().Split('\n')[^1].ShouldBe("demo-skill");
    }

    [Fact]
    public async Task An_agent_whose_config_names_other_skills_does_not_see_the_rest()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        await InstalledSkills.InstallAsync(server, workspace, "kept", InstalledSkills.WithScript("kept", "kept-ran"));
        await InstalledSkills.InstallAsync(server, workspace, "left-out", InstalledSkills.WithScript("left-out", "left-out-ran"));
        await client.SetConfigOkAsync("agents.main.skills", """["kept"]""");

        var session = await ExecAsync(client, "ls /skills; /skills/left-out/scripts/x.sh 2>/dev/null || echo not-mounted");

        session.Stdout.ShouldBe("kept\nnot-mounted\n");
    }

    [Fact]
    public async Task A_workspace_never_gets_another_workspaces_skills()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (mine, myWorkspace) = await InstalledSkills.NewWorkspaceAsync(server);
        var (theirs, theirWorkspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var a = mine;
        using var b = theirs;
        await InstalledSkills.InstallAsync(server, myWorkspace, "private-skill", InstalledSkills.WithScript("private-skill", "mine"));

        var none = await ExecAsync(theirs, "test -e /skills && ls /skills || echo no-skills");
        none.Stdout.ShouldBe("no-skills\n");

        // The same name in their workspace is their own skill, with their own bytes.
        await InstalledSkills.InstallAsync(server, theirWorkspace, "private-skill", InstalledSkills.WithScript("private-skill", "theirs"));
        (await ExecAsync(theirs, "/skills/private-skill/scripts/x.sh")).Stdout.ShouldBe("theirs\n");
        (await ExecAsync(mine, "/skills/private-skill/scripts/x.sh")).Stdout.ShouldBe("mine\n");
    }

    [Fact]
    public async Task A_tampered_cached_archive_is_detected_and_fetched_again()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        var archive = InstalledSkills.WithScript("cached", $"cached-{Guid.NewGuid():N}");
        var sha256 = await InstalledSkills.InstallAsync(server, workspace, "cached", archive);
        (await ExecAsync(client, "/skills/cached/scripts/x.sh")).Status.ShouldBe(SessionStatus.Succeeded);
        var cached = Path.Join(DefaultSandbox.SkillDirectory(server.Settings.DataDir, server.Settings.SandboxSharedDirectory), "archives", sha256 + ".tar.gz");
        File.ReadAllBytes(cached).ShouldBe(archive);

        File.WriteAllBytes(cached, InstalledSkills.WithScript("cached", "tampered"));
        var again = await ExecAsync(client, "/skills/cached/scripts/x.sh");

        again.Status.ShouldBe(SessionStatus.Succeeded, again.Stderr);
        again.Stdout.ShouldNotContain("tampered");
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(cached))).ShouldBe(sha256);
    }

    [Fact]
    public async Task An_archive_that_climbs_out_of_its_folder_fails_the_session_naming_the_skill()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        // Stored as if the install had let it through: the worker must not trust the bytes blindly.
        var climbing = SkillArchive.WithManifest("climber").File("../../escaped.txt", "out").Bytes();
        await InstalledSkills.InstallAsync(server, workspace, "climber", climbing);

        var session = await ExecAsync(client, "echo never-runs");

        session.Status.ShouldBe(SessionStatus.Failed);
        session.Error!.Code.ShouldBe("skill_unavailable");
        session.Error.Message.ShouldContain("'climber'");
        session.Stdout.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_link_that_points_out_of_its_folder_fails_the_session()
    {
        var server = await servers.GetAsync(TestStore.Sqlite);
        var (client, workspace) = await InstalledSkills.NewWorkspaceAsync(server);
        using var _ = client;
        await InstalledSkills.InstallAsync(server, workspace, "linker", SkillArchive.WithManifest("linker").Symlink("etc", "../../../etc").Bytes());
        await InstalledSkills.InstallAsync(server, workspace, "device", SkillArchive.WithManifest("device").Special(TarEntryType.Fifo, "pipe").Bytes());
        await client.SetConfigOkAsync("agents.main.skills", """["linker"]""");

        var linked = await ExecAsync(client, "echo never-runs");
        linked.Error!.Code.ShouldBe("skill_unavailable");
        linked.Error.Message.ShouldContain("'linker'");

        await client.SetConfigOkAsync("agents.main.skills", """["device"]""");
        var special = await ExecAsync(client, "echo never-runs");
        special.Error!.Code.ShouldBe("skill_unavailable");
        special.Error.Message.ShouldContain("'device'");
    }

    /// <summary>Has the scripted model run <paramref name="command"/> with exec in the workspace's main conversation, and returns the session it ran in.</summary>
    private async Task<Session> ExecAsync(HttpClient client, string command)
    {
        servers.Model.ThenEvents(ModelScript.Exec("call_1", command)).ThenEvents(ModelScript.Answer("Done."));
        var run = await client.SendAsync("main", "Use the skill.");
        run.Status.ShouldBe(RunStatus.Succeeded);
        var call = (await client.HistoryAsync(run.ConversationId)).Items.Last(entry => entry.Kind == "tool_call");
        return (await client.GetFromJsonAsync($"/v1/sessions/{call.SessionId}", KennelJson.Default.Session))!;
    }
}
