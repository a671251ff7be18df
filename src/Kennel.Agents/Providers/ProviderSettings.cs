namespace Kennel.Agents.Providers;

/// <summary>
/// One provider an agent's model can name: <c>openai/gpt-5-mini</c> is model <c>gpt-5-mini</c> of provider <c>openai</c>.
/// <see cref="ApiKey"/> is a secret: <see cref="ToString"/> leaves it out, so no log line or exception can carry it.
/// </summary>
public sealed record ProviderSettings(string Name, ProviderKind Kind, Uri? BaseUrl, string? ApiKey)
{
    public override string ToString() => $"{Name} ({Kind.Name()}{(BaseUrl is null ? "" : $" at {BaseUrl}")})";
}
