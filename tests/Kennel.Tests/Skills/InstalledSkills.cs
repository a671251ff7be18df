using System.Security.Cryptography;
using Dapper;
using Kennel.Contracts.ApiKeys;
using Kennel.Testing;

namespace Kennel.Tests.Skills;

/// <summary>Workspaces with skills installed straight into the store, as an install would leave them, for the tests of what sandboxes mount.</summary>
internal static class InstalledSkills
{
    /// <summary>A new workspace, its id, and a client that may chat in it and configure it.</summary>
    public static async Task<(HttpClient Client, string WorkspaceId)> NewWorkspaceAsync(TestServer server)
    {
        var name = $"sk-{Guid.NewGuid():N}"[..20];
        using var admin = server.Client();
        var key = await admin.CreateApiKeyAsync(name, Scopes.Read, Scopes.Write, Scopes.Chat);
        var id = await server.Server.Database.ReadAsync(connection => connection.QuerySingleAsync<string>(
            "SELECT id FROM workspaces WHERE name = @name", new { name }), CancellationToken.None);
        return (server.Client(key.Key), id);
    }

    /// <summary>Stores <paramref name="archive"/> as the installed skill <paramref name="name"/> of the workspace; returns its hash.</summary>
    public static async Task<string> InstallAsync(TestServer server, string workspaceId, string name, byte[] archive)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(archive));
        await server.Server.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "INSERT INTO skills (workspace_id, name, registry, registry_url, version, sha256, size, publisher, verdict, reasons, description, " +
            "requires, files, archive, installed_by, installed_at, updated_at) VALUES (@workspaceId, @name, 'test', 'http://127.0.0.1/index.json', " +
            "'1.0.0', @sha256, @size, 'tests', 'clean', '[]', 'A test skill.', '{}', '[]', @archive, NULL, 0, 0)",
            new { workspaceId, name, sha256, size = (long)archive.Length, archive = Convert.ToBase64String(archive) }, transaction),
            CancellationToken.None);
        return sha256;
    }

    /// <summary>A skill with a manifest and an executable script that prints <paramref name="says"/>.</summary>
    public static byte[] WithScript(string name, string says) => SkillArchive.WithManifest(name)
        .Directory("scripts")
        .File("scripts/x.sh", $"#!/bin/sh\necho {says}\n", SkillArchive.Executable)
        .Bytes();
}
