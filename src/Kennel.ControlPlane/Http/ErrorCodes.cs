namespace Kennel.ControlPlane.Http;

/// <summary>The stable <c>code</c> values of problem details. Clients branch on these, so they never change meaning.</summary>
public static class ErrorCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidJson = "invalid_json";
    public const string NotFound = "not_found";
    public const string Unauthorized = "unauthorized";
    public const string InsufficientScope = "insufficient_scope";
    public const string PayloadTooLarge = "payload_too_large";
    public const string RateLimited = "rate_limited";
    public const string InternalError = "internal_error";
    public const string SnapshotNotFound = "snapshot_not_found";
    public const string UnsupportedNetworkMode = "unsupported_network_mode";
    public const string NetworkModeForbidden = "network_mode_forbidden";
    public const string SessionFinished = "session_finished";
    public const string SessionNotAssigned = "session_not_assigned";
    public const string WorkspaceMismatch = "workspace_forbidden";
    public const string TokenInvalid = "token_invalid";
    public const string UserExists = "user_exists";
    public const string SecretNotFound = "secret_not_found";
    public const string SecretUnreadable = "secret_unreadable";
    public const string SecretLimitReached = "secret_limit_reached";
    public const string QueueFull = "queue_full";
    public const string QuotaExceeded = "quota_exceeded";
}
