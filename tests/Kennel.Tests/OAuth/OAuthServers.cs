using Kennel.Testing;

namespace Kennel.Tests.OAuth;

/// <summary>Servers whose codes and access tokens expire as soon as they are issued, for the expiry cases.</summary>
public sealed class ServersWithInstantExpiry() : ServersPerStore(s => s with
{
    EmbeddedWorker = false,
    OAuth = s.OAuth with { CodeLifetime = TimeSpan.Zero, AccessTokenLifetime = TimeSpan.Zero },
});
