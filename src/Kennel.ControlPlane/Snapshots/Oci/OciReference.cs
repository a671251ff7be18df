using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>
/// An image reference as Docker writes it: <c>[host[:port]/]repository[:tag][@sha256:…]</c>. A name without a host is
/// Docker Hub's (<c>docker.io</c>), and a one-component Docker Hub name is an official image (<c>library/…</c>); a
/// reference with neither tag nor digest means <c>latest</c>. With both, the digest decides and the tag is only shown.
/// </summary>
public sealed partial record OciReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The host the distribution API is reached at (Docker Hub's API lives on its own name).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>What the manifest is asked for by: the digest when there is one, else the tag.</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    public override string ToString() => $"{Registry}/{Repository}" + (Tag is null ? "" : $":{Tag}") + (Digest is null ? "" : $"@{Digest}");

    /// <summary>Parses <paramref name="text"/>, or throws an <see cref="OciException"/> that says which part is wrong.</summary>
    public static OciReference Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 512 || text != text.Trim())
        {
            throw Invalid(text, "an image reference is 1-512 characters without surrounding spaces, such as python:3.12-slim");
        }
        string? digest = null;
        var name = text;
        if (text.IndexOf('@', StringComparison.Ordinal) is var at and >= 0)
        {
            digest = text[(at + 1)..];
            name = text[..at];
            if (!OciDigest.IsValid(digest))
            {
                throw Invalid(text, "the digest must be sha256: followed by 64 lowercase hex digits");
            }
        }
        string? tag = null;
        var lastSlash = name.LastIndexOf('/');
        if (name.LastIndexOf(':') is var colon && colon > lastSlash)
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                throw Invalid(text, "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
            }
        }
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? "" : name[..slash];
        var registry = DockerHub;
        var repository = name;
        if (slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
        {
            if (!HostPattern().IsMatch(first))
            {
                throw Invalid(text, $"'{first}' is not a registry host[:port]");
            }
            registry = first is "index.docker.io" or "registry-1.docker.io" ? DockerHub : first;
            repository = name[(slash + 1)..];
        }
        if (registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }
        if (repository.Length > 255 || !RepositoryPattern().IsMatch(repository))
        {
            throw Invalid(text, "a repository is lowercase path components of letters and digits joined by '.', '_', '__' or '-', separated by '/'");
        }
        return new OciReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
    }

    private static OciException Invalid(string? text, string why) => new(OciErrors.InvalidReference, $"'{text}' is not an image reference: {why}");

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
