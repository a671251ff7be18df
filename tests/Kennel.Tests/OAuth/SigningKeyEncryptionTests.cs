using System.Net;
using System.Security.Cryptography;
using Dapper;
using Kennel.ControlPlane.Hosting;
using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>The ES256 signing keys are encrypted at rest under a key kept outside the store; keys stored in plain before still sign.</summary>
public sealed class SigningKeyEncryptionTests
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Signing_keys_are_encrypted_under_a_key_file_outside_the_store_and_plain_ones_are_encrypted_at_the_next_start(string store)
    {
        var dataDir = Directory.CreateTempSubdirectory("kennel-test-kek-");
        var database = store == TestStore.Postgres ? await TestStore.CreateDatabaseAsync() : null;
        try
        {
            string plainId;
            string before;
            int port;
            await using (var first = await TestServer.StartAsync(store, dataDir: dataDir.FullName, databaseUrl: database))
            {
                before = (await first.FullFlowAsync($"k-{Guid.NewGuid():N}"[..16])).AccessToken;
                port = first.Url.Port;
                using (var acceptedBefore = await first.InitializeAsync("/mcp", before))
                {
                    acceptedBefore.StatusCode.ShouldBe(HttpStatusCode.OK);
                }
                var kekFile = Path.Combine(dataDir.FullName, KeyEncryption.FileName);
                File.GetUnixFileMode(kekFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
                var stored = await PrivateKeysAsync(first);
                stored.ShouldNotBeEmpty();
                stored.Values.ShouldAllBe(value => value.StartsWith("enc:v1:"));
                (await first.ReadAllValuesAsync()).ShouldNotContain(v => v.Value.Contains(File.ReadAllText(kekFile).Trim()));

                // A key stored in plain, as before encryption at rest, and newer than the others: the one that signs next.
                using var plain = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                plainId = $"key_plain{Guid.NewGuid():N}";
                await first.Server.Database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
                    "INSERT INTO oauth_signing_keys (id, private_key, created_at) VALUES (@plainId, @key, @now)",
                    new { plainId, key = Convert.ToBase64String(plain.ExportPkcs8PrivateKey()), now = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds() },
                    transaction), CancellationToken.None);
            }

            // The same address, so the same issuer: a restart, as a user sees one.
            await using var second = await TestServer.StartAsync(store, s => s with { Listen = $"127.0.0.1:{port}" }, dataDir.FullName, database);
            (await PrivateKeysAsync(second))[plainId].ShouldStartWith("enc:v1:", customMessage: "encrypted at start");
            var token = (await second.FullFlowAsync($"k-{Guid.NewGuid():N}"[..16])).AccessToken;
            OAuthClientSteps.Header(token, "kid").ShouldBe(plainId);
            using var accepted = await second.InitializeAsync("/mcp", token);
            accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var fromBefore = await second.InitializeAsync("/mcp", before);
            fromBefore.StatusCode.ShouldBe(HttpStatusCode.OK, "a token issued before the restart, checked with its key read back from the store");
        }
        finally
        {
            if (database is not null)
            {
                await TestStore.DropDatabaseAsync(database);
            }
            dataDir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_key_encrypted_under_another_key_encryption_key_or_id_is_refused_with_a_message_naming_the_setting()
    {
        var encryption = new KeyEncryption(RandomNumberGenerator.GetBytes(32));
        var stored = encryption.Encrypt("key_1", [1, 2, 3]);
        encryption.Decrypt("key_1", stored).ShouldBe([1, 2, 3]);
        var refused = Should.Throw<KeyEncryptionException>(() => new KeyEncryption(RandomNumberGenerator.GetBytes(32)).Decrypt("key_1", stored));
        refused.Message.ShouldContain(KeyEncryption.Variable);
        Should.Throw<KeyEncryptionException>(() => encryption.Decrypt("key_2", stored), "a row's ciphertext cannot be moved to another key id");
        Should.Throw<KeyEncryptionException>(() => encryption.Decrypt("key_1", Convert.ToBase64String([1, 2, 3])), "a plain value is not an encrypted one");
    }

    private static async Task<Dictionary<string, string>> PrivateKeysAsync(TestServer server) =>
        (await server.Server.Database.ReadAsync(connection => connection.QueryAsync<(string Id, string PrivateKey)>(
            "SELECT id, private_key FROM oauth_signing_keys"), CancellationToken.None)).ToDictionary(r => r.Id, r => r.PrivateKey);
}
