namespace Kennel.Agents.Providers;

/// <summary>
/// A model call that failed for good: retries spent, a refusal, a malformed or cut stream, or no provider at all.
/// <see cref="Code"/> is what a run records and a client sees (<c>provider_error</c>, <c>provider_not_configured</c>);
/// the message says what happened and never carries a key.
/// </summary>
public sealed class ProviderException : Exception
{
    public const string ProviderError = "provider_error";
    public const string NotConfigured = "provider_not_configured";

    public ProviderException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    public ProviderException()
        : this(ProviderError, "The model provider failed.")
    {
    }

    public ProviderException(string message)
        : this(ProviderError, message)
    {
    }

    public ProviderException(string message, Exception innerException)
        : this(ProviderError, message, innerException)
    {
    }

    public string Code { get; }
}
