namespace Kennel.Agents.Providers;

/// <summary>The wire format a provider speaks.</summary>
public enum ProviderKind
{
    /// <summary>OpenAI Chat Completions, and every server that copies it (Ollama, vLLM, llama.cpp, OpenRouter).</summary>
    OpenAI,

    /// <summary>The Anthropic Messages API.</summary>
    Anthropic,
}

/// <summary>The provider kinds as the config spells them.</summary>
public static class ProviderKinds
{
    public static string Name(this ProviderKind kind) => kind == ProviderKind.OpenAI ? "openai" : "anthropic";

    /// <summary>The model a provider's <c>main</c> agent uses until the config names another.</summary>
    public static string DefaultModel(this ProviderKind kind) => kind == ProviderKind.OpenAI ? "gpt-5-mini" : "claude-sonnet-4-5";

    public static bool TryParse(string? text, out ProviderKind kind)
    {
        kind = text == "anthropic" ? ProviderKind.Anthropic : ProviderKind.OpenAI;
        return text is "openai" or "anthropic";
    }
}
