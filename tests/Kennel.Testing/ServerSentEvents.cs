namespace Kennel.Testing;

/// <summary>One event of a <c>text/event-stream</c> response.</summary>
public sealed record ServerSentEvent(string Name, string Data);

public static class ServerSentEvents
{
    /// <summary>Reads a response's events to the end of the stream (the server closes it after the last event).</summary>
    public static async Task<IReadOnlyList<ServerSentEvent>> ReadEventsAsync(this HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var events = new List<ServerSentEvent>();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body);
        string name = "message";
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    events.Add(new ServerSentEvent(name, string.Join('\n', data)));
                }
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                name = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line["data:".Length..].TrimStart(' '));
            }
        }
        return events;
    }
}
