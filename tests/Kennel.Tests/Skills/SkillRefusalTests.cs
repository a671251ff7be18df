using System.Formats.Tar;
using System.Security.Cryptography;
using Kennel.ControlPlane.Skills;

namespace Kennel.Tests.Skills;

/// <summary>The malformed and malicious corpus: each archive is refused with the reason a publisher would need to see.</summary>
public sealed class SkillRefusalTests
{
    private static readonly byte[] Elf = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void A_hash_mismatch_is_refused_before_anything_is_read()
    {
        var bytes = SkillArchive.WithManifest().Bytes();
        var inspection = SkillInspector.Inspect(new MemoryStream(bytes), new string('0', 64), SkillLimits.Default);
        ShouldBlock(inspection, "hash_mismatch");
        inspection.Files.ShouldBeEmpty();
    }

    [Fact]
    public void An_expected_hash_that_is_not_hex_is_a_mismatch() =>
        ShouldBlock(SkillInspector.Inspect(new MemoryStream(SkillArchive.WithManifest().Bytes()), "not-a-hash", SkillLimits.Default), "hash_mismatch");

    [Fact]
    public void An_archive_over_the_compressed_limit_is_refused_without_reading_it_all()
    {
        var noise = RandomNumberGenerator.GetBytes(64 * 1024);
        var archive = SkillArchive.WithManifest().File("data.bin", noise);
        var inspection = archive.Inspect(SkillLimits.Default with { MaxCompressedBytes = 16 * 1024 });
        ShouldBlock(inspection, "too_large");
    }

    [Fact]
    public void A_huge_upload_is_read_only_up_to_the_compressed_limit()
    {
        var upload = new MemoryStream(new byte[50 * 1024 * 1024]);
        ShouldBlock(SkillInspector.Inspect(upload, new string('0', 64), SkillLimits.Default), "too_large");
        upload.Position.ShouldBeLessThan(SkillLimits.Default.MaxCompressedBytes + 1024 * 1024);
    }

    [Fact]
    public void A_file_over_the_per_file_limit_is_refused() =>
        ShouldBlock(SkillArchive.WithManifest().File("big.txt", new string('a', 4000)).Inspect(SkillLimits.Default with { MaxFileBytes = 1000 }), "too_large");

    [Fact]
    public void An_archive_that_inflates_past_the_total_limit_is_refused()
    {
        var noise = RandomNumberGenerator.GetBytes(40 * 1024);
        var archive = SkillArchive.WithManifest().File("a.bin", noise).File("b.bin", noise);
        ShouldBlock(archive.Inspect(SkillLimits.Default with { MaxUncompressedBytes = 64 * 1024 }), "too_large");
    }

    [Fact]
    public void Too_many_files_are_refused()
    {
        var archive = SkillArchive.WithManifest();
        for (var i = 0; i < 501; i++)
        {
            archive.File($"notes/{i}.md", "note");
        }
        ShouldBlock(archive.Inspect(), "too_many_files");
    }

    [Fact]
    public void A_gzip_bomb_is_stopped_by_the_ratio_cap()
    {
        var zeros = new byte[3 * 1024 * 1024];
        var archive = SkillArchive.WithManifest();
        for (var i = 0; i < 10; i++)
        {
            archive.File($"pad{i}.txt", zeros);
        }
        var bytes = archive.Bytes();
        bytes.Length.ShouldBeLessThan(200 * 1024);
        ShouldBlock(SkillArchive.InspectBytes(bytes), "compression_bomb");
    }

    [Fact]
    public void Bytes_that_are_not_a_gzipped_tar_are_refused() =>
        ShouldBlock(SkillArchive.InspectBytes("just some text, not an archive"u8.ToArray()), "bad_archive");

    [Theory]
    [InlineData("../evil.sh")]
    [InlineData("scripts/../../evil.sh")]
    [InlineData("/etc/cron.d/evil")]
    [InlineData("C:/Windows/evil.bat")]
    [InlineData("scripts\\..\\..\\evil.sh")]
    public void A_path_out_of_the_folder_is_refused(string path) =>
        ShouldBlock(SkillArchive.WithManifest().File(path, "echo hi").Inspect(), "path_traversal", path);

    [Theory]
    [InlineData("passwd", "../../etc/passwd")]
    [InlineData("scripts/up", "../..")]
    [InlineData("home", "/home/user")]
    public void A_symlink_out_of_the_folder_is_refused(string path, string target) =>
        ShouldBlock(SkillArchive.WithManifest().Symlink(path, target).Inspect(), "link_escape", path);

    [Fact]
    public void A_symlink_through_another_symlink_is_refused()
    {
        // root -> "." is harmless alone, but sub/escape -> ../root/.. climbs out once both links are resolved.
        var archive = SkillArchive.WithManifest().Directory("sub").Symlink("root", ".").Symlink("sub/escape", "../root/..");
        ShouldBlock(archive.Inspect(), "link_escape", "sub/escape");
    }

    [Fact]
    public void A_hard_link_is_refused() =>
        ShouldBlock(SkillArchive.WithManifest().HardLink("copy.md", "SKILL.md").Inspect(), "link_escape", "copy.md");

    [Theory]
    [InlineData(TarEntryType.CharacterDevice)]
    [InlineData(TarEntryType.BlockDevice)]
    [InlineData(TarEntryType.Fifo)]
    public void A_device_or_fifo_is_refused(TarEntryType type) =>
        ShouldBlock(SkillArchive.WithManifest().Special(type, "dev/thing").Inspect(), "special_file", "dev/thing");

    [Fact]
    public void An_elf_binary_marked_executable_is_refused() =>
        ShouldBlock(SkillArchive.WithManifest().File("scripts/helper", Elf, SkillArchive.Executable).Inspect(), "unknown_executable", "scripts/helper");

    [Fact]
    public void An_elf_binary_named_like_a_script_is_refused() =>
        ShouldBlock(SkillArchive.WithManifest().File("scripts/run.sh", Elf, SkillArchive.Executable).Inspect(), "unknown_executable", "scripts/run.sh");

    [Fact]
    public void An_executable_that_is_not_a_recognised_script_is_refused() =>
        ShouldBlock(SkillArchive.WithManifest().File("scripts/tool", "#!/usr/local/bin/mystery\nrun\n", SkillArchive.Executable).Inspect(),
            "unknown_executable", "scripts/tool");

    [Fact]
    public void A_missing_skill_md_is_refused() =>
        ShouldBlock(new SkillArchive().File("README.md", "# A skill\n").Inspect(), "missing_manifest");

    [Fact]
    public void A_skill_md_below_the_root_does_not_count() =>
        ShouldBlock(new SkillArchive().File("demo/SKILL.md", "---\nname: demo\ndescription: d\n---\n").Inspect(), "missing_manifest");

    [Theory]
    [InlineData("---\nname: demo\n---\nbody\n")]
    [InlineData("---\nname: demo\ndescription:\n---\n")]
    [InlineData("---\nname: Demo_Skill\ndescription: Does things.\n---\n")]
    [InlineData("---\nname: demo\ndescription: Does things.\n")]
    [InlineData("# no front matter\n")]
    [InlineData("---\nname: demo\nname: other\ndescription: Does things.\n---\n")]
    [InlineData("---\nname: demo\ndescription: Does things.\n  stray: indent\n---\n")]
    [InlineData("---\nname: demo\ndescription: Does things.\nrequires:\n  programs: jq\n---\n")]
    [InlineData("---\nname: demo\ndescription: Does things.\nrequires:\n  network: yes\n---\n")]
    [InlineData("---\nname: demo\ndescription: Does things.\nrequires:\n  programs: [\"jq; rm -rf /\"]\n---\n")]
    public void A_bad_skill_md_is_refused(string manifest)
    {
        var inspection = new SkillArchive().File("SKILL.md", manifest).Inspect();
        ShouldBlock(inspection, "bad_manifest", "SKILL.md");
        inspection.Manifest.ShouldBeNull();
    }

    internal static void ShouldBlock(SkillInspection inspection, string code, string? path = null)
    {
        inspection.Verdict.ShouldBe(SkillVerdict.Block);
        inspection.IsBlocked.ShouldBeTrue();
        var reason = inspection.Reasons.ShouldHaveSingleItem();
        reason.Code.ShouldBe(code);
        reason.Severity.ShouldBe(SkillVerdict.Block);
        reason.Message.ShouldNotBeNullOrWhiteSpace();
        if (path is not null)
        {
            reason.Path.ShouldBe(path);
        }
    }
}
