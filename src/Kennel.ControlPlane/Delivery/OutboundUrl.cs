namespace Kennel.ControlPlane.Delivery;

/// <summary>
/// The shape of a URL Kennel may be asked to send to, checked where a user gives one. Where it may connect is decided
/// later, at connect time, by <see cref="Http.OutboundAddresses"/>.
/// </summary>
public static class OutboundUrl
{
    public const int MaxLength = 2048;

    /// <summary>Null for an absolute http or https URL with a host, no credentials and no fragment; otherwise what is wrong.</summary>
    public static string? Validate(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "A URL is required.";
        }
        if (url.Length > MaxLength)
        {
            return $"A URL is at most {MaxLength} characters.";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.Host.Length == 0)
        {
            return "A URL is an absolute http:// or https:// URL with a host.";
        }
        if (parsed.UserInfo.Length > 0)
        {
            return "A URL carries no user name or password.";
        }
        return parsed.Fragment.Length > 0 ? "A URL has no #fragment (it is never sent)." : null;
    }
}
