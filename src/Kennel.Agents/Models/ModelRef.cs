namespace Kennel.Agents.Models;

/// <summary>A model as an agent names it: <c>provider/model</c>. The model part may itself hold slashes (OpenRouter's do).</summary>
public readonly record struct ModelRef(string Provider, string Model)
{
    public override string ToString() => $"{Provider}/{Model}";

    public static bool TryParse(string? text, out ModelRef model)
    {
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        model = slash > 0 && slash < text!.Length - 1 ? new ModelRef(text[..slash], text[(slash + 1)..]) : default;
        return slash > 0 && slash < text!.Length - 1;
    }
}
