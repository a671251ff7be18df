namespace Kennel.ControlPlane.Sessions;

/// <summary>The bounds a session request must fall within, with the defaults used when a field is left out.</summary>
public static class SessionLimits
{
    public const long DefaultTimeoutMs = 600_000;
    public const long MinTimeoutMs = 1_000;
    public const long MaxTimeoutMs = 86_400_000;
    public const int DefaultVcpus = 1;
    public const int MaxVcpus = 64;
    public const int DefaultMemoryMb = 512;
    public const int MinMemoryMb = 16;
    public const int MaxMemoryMb = 262_144;
    public const int MaxScriptBytes = 256 * 1024;
    public const int MaxCommandArgs = 4096;
    public const int MaxEnvEntries = 256;
    public const int MaxEnvBytes = 256 * 1024;

    /// <summary>Secrets a session may reference: with values of at most 64 KiB, what the sandbox's environment can hold.</summary>
    public const int MaxSecrets = 16;

    public const int MaxMetadataEntries = 64;
    public const int MaxMetadataKeyLength = 128;
    public const int MaxMetadataValueLength = 1024;
    public const int DefaultListLimit = 50;
    public const int MaxListLimit = 200;
    public const long DefaultWaitMs = 30_000;
    public const long MaxWaitMs = 300_000;
}
