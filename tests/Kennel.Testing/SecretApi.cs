using System.Net.Http.Json;
using Kennel.Contracts;
using Kennel.Contracts.Secrets;

namespace Kennel.Testing;

/// <summary>The secret endpoints, called as a user's script would.</summary>
public static class SecretApi
{
    /// <summary>Sets a secret (created or replaced) and returns it as the API shows it: without its value.</summary>
    public static async Task<Secret> SetSecretAsync(this HttpClient client, string name, string value)
    {
        using var response = await client.PutAsJsonAsync($"/v1/secrets/{name}", new SetSecretRequest { Value = value }, KennelJson.Default.SetSecretRequest);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Setting secret {name} failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.Secret))!;
    }

    public static async Task<SecretList> ListSecretsAsync(this HttpClient client)
    {
        using var response = await client.GetAsync("/v1/secrets");
        await Api.EnsureAsync(response, StatusCodes.Status200OK);
        return (await response.Content.ReadFromJsonAsync(KennelJson.Default.SecretList))!;
    }

    public static async Task DeleteSecretAsync(this HttpClient client, string name)
    {
        using var response = await client.DeleteAsync($"/v1/secrets/{name}");
        await Api.EnsureAsync(response, StatusCodes.Status204NoContent);
    }
}
