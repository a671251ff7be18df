using Kennel.Contracts.Sessions;

namespace Kennel.ControlPlane.Sessions;

/// <summary>How a session ended. Every path to a terminal state (exit, cancel, lost worker) goes through one of these.</summary>
public sealed record SessionOutcome(
    SessionStatus Status, int? ExitCode = null, SessionError? Error = null, double WallSeconds = 0, double CpuSeconds = 0, SessionEgress? Egress = null);
