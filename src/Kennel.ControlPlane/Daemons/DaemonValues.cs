namespace Kennel.ControlPlane.Daemons;

/// <summary>The words of a daemon definition, and its bounds.</summary>
public static class DaemonValues
{
    public const string Webhook = "webhook";
    public const string Schedule = "schedule";
    public const string Manual = "manual";

    public const string Allow = "allow";
    public const string Skip = "skip";
    public const string Queue = "queue";

    public const string Active = "active";
    public const string Paused = "paused";

    public const int MaxNameLength = 63;
    public const int MaxDescriptionLength = 1024;
    public const int MinSecretLength = 8;
    public const int MaxSecretLength = 256;
    public const int RecentSessions = 10;

    /// <summary>Where a run's trigger payload appears inside its sandbox; <c>KENNEL_TRIGGER_PAYLOAD</c> holds this path.</summary>
    public const string PayloadPath = "/run/kennel/trigger/payload";
}
