using Kennel.ControlPlane.Http;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// Where and how far an image pull may go. Registries are reached over https, or over plain http on a loopback host
/// or one listed in <see cref="InsecureRegistries"/>; every connection goes through <see cref="Addresses"/>, so a
/// registry on loopback or the private network is reached only when the installation allows it
/// (<c>KENNEL_OUTBOUND_ALLOW_CIDRS</c>).
/// </summary>
public sealed record OciPullOptions
{
    public OutboundAddresses Addresses { get; init; } = OutboundAddresses.PublicOnly;

    /// <summary>Registries (<c>host[:port]</c>, as written in references) reached over plain http although not on loopback.</summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>How long one request may take to answer with its headers (connect and token requests included).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a whole pull or unpack may take.</summary>
    public TimeSpan PullTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public long MaxManifestBytes { get; init; } = 4 << 20;

    /// <summary>The largest blob (compressed layer, config) downloaded or read from an archive.</summary>
    public long MaxBlobBytes { get; init; } = 4L << 30;

    /// <summary>The most bytes an image may hold unpacked, all layers together.</summary>
    public long MaxUnpackedBytes { get; init; } = 16L << 30;

    /// <summary>The most tar entries an image may hold, all layers together.</summary>
    public int MaxEntries { get; init; } = 1_000_000;

    public int MaxLayers { get; init; } = 128;
}

/// <summary>A registry login (from a workspace secret). Its <see cref="ToString"/> never shows the password.</summary>
public sealed record OciCredentials(string Username, string Password)
{
    public override string ToString() => $"OciCredentials {{ Username = {Username} }}";
}
