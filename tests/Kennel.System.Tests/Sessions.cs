using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.SystemTests;

/// <summary>Session steps the system tests share, over the REST API.</summary>
public static class Sessions
{
    /// <summary>
    /// A script carrying a marker, so its processes can be found on the host: in the script itself (the shell's command
    /// line) and in the environment (which children such as <c>sleep</c> inherit).
    /// </summary>
    public static CreateSessionRequest Marked(string script, string marker) => new()
    {
        Script = $"{script} # {marker}",
        Env = new Dictionary<string, string> { ["KENNEL_TEST_MARKER"] = marker },
    };

    public static string NewMarker() => $"kennel-marker-{Guid.NewGuid():N}";

    /// <summary>Polls until the session has <paramref name="status"/>; fails if it ends in another state or time runs out.</summary>
    public static async Task<Session> UntilStatusAsync(this HttpClient client, string id, SessionStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var session = await client.GetSessionAsync(id);
            if (session.Status == status)
            {
                return session;
            }
            if (session.Status.IsTerminal() || DateTime.UtcNow > deadline)
            {
                throw new ShouldAssertException($"Session {id} never became {status.ToWire()}: it is {session.Status.ToWire()} " +
                    $"(error {session.Error?.Code}: {session.Error?.Message}).");
            }
            await Task.Delay(50);
        }
    }
}
