namespace Kennel.Agents.Providers;

/// <summary>
/// The providers every workspace can use without configuring one, from the conventional variables:
/// <c>OPENAI_API_KEY</c> and <c>OPENAI_BASE_URL</c> make provider <c>openai</c>; <c>ANTHROPIC_API_KEY</c> and
/// <c>ANTHROPIC_BASE_URL</c> make <c>anthropic</c>. A base URL alone is enough (a local server such as Ollama needs no key).
/// </summary>
public static class InstallationProviders
{
    public static IReadOnlyList<ProviderSettings> FromEnvironment(Func<string, string?> variable)
    {
        var providers = new List<ProviderSettings>();
        Add(providers, variable, "openai", ProviderKind.OpenAI, "OPENAI");
        Add(providers, variable, "anthropic", ProviderKind.Anthropic, "ANTHROPIC");
        return providers;
    }

    private static void Add(List<ProviderSettings> providers, Func<string, string?> variable, string name, ProviderKind kind, string prefix)
    {
        var key = Blank(variable($"{prefix}_API_KEY"));
        var baseUrl = Blank(variable($"{prefix}_BASE_URL"));
        if (key is null && baseUrl is null)
        {
            return;
        }
        if (baseUrl is not null && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
        {
            throw new ArgumentException($"{prefix}_BASE_URL must be an http or https URL; it is '{baseUrl}'.");
        }
        providers.Add(new ProviderSettings(name, kind, baseUrl is null ? null : new Uri(baseUrl), key));
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
