namespace Kennel.ControlPlane.Snapshots.Oci;

/// <summary>An image that could not be pulled or unpacked; <see cref="Code"/> is one of <see cref="OciErrors"/>.</summary>
public sealed class OciException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The stable codes of <see cref="OciException"/>.</summary>
public static class OciErrors
{
    public const string InvalidReference = "oci_reference_invalid";
    public const string NotFound = "oci_not_found";
    public const string Unauthorized = "oci_unauthorized";
    public const string Unreachable = "oci_registry_unreachable";
    public const string Forbidden = "oci_registry_forbidden";
    public const string Timeout = "oci_timeout";
    public const string TooLarge = "oci_too_large";
    public const string DigestMismatch = "oci_digest_mismatch";
    public const string InvalidManifest = "oci_manifest_invalid";
    public const string PlatformUnavailable = "oci_platform_unavailable";
    public const string UnsafeLayer = "oci_layer_unsafe";
    public const string InvalidArchive = "oci_archive_invalid";
    public const string UnpackFailed = "oci_unpack_failed";
}
