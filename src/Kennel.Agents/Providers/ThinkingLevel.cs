namespace Kennel.Agents.Providers;

/// <summary>How much a model thinks before it answers: the agent's default, or a conversation's choice.</summary>
public enum ThinkingLevel
{
    Off,
    Minimal,
    Low,
    Medium,
    High,
}

/// <summary>The thinking levels as the config and the APIs spell them.</summary>
public static class ThinkingLevels
{
    public static readonly IReadOnlyList<string> Names = ["off", "minimal", "low", "medium", "high"];

    public static string Name(this ThinkingLevel level) => Names[(int)level];

    public static bool TryParse(string? text, out ThinkingLevel level)
    {
        var index = text is null ? -1 : Names.ToList().IndexOf(text);
        level = index < 0 ? ThinkingLevel.Off : (ThinkingLevel)index;
        return index >= 0;
    }
}
