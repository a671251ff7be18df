using System.Buffers;
using System.Runtime.InteropServices;
using System.Globalization;
using System.Text.Json;
using Kennel.Contracts;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.Mcp;
using ModelContextProtocol.Protocol;

namespace Kennel.ControlPlane.Mcp;

/// <summary>
/// Keeps a tool result under about 25,000 tokens, estimated at 4 characters a token (<see cref="MaxChars"/>), so that a
/// model's context is not flooded. Session output is served in ranges (<c>stdoutOffset</c>, <c>stderrOffset</c>,
/// <c>maxOutputChars</c>); a list returns fewer items and a <c>nextCursor</c>. Whatever is cut says how to fetch the rest.
/// </summary>
public static class ResponseBudget
{
    public const int CharsPerToken = 4;
    public const int MaxTokens = 25_000;
    public const int MaxChars = MaxTokens * CharsPerToken;

    /// <summary>The most output one result carries, stdout and stderr together; the rest of the budget is the session's other fields.</summary>
    public const int MaxOutputChars = 90_000;

    /// <summary>
    /// A session with at most <paramref name="maxOutputChars"/> of its output from the given offsets. The structured
    /// content is the session plus, per stream, <c>stdoutOffset</c>, <c>stdoutTotalChars</c> and <c>nextStdoutOffset</c>
    /// (absent when the range reaches the end; likewise for stderr), and the text ends with a marker naming the parameter.
    /// </summary>
    public static CallToolResult Session(Session session, long stdoutOffset, long stderrOffset, long maxOutputChars)
    {
        Validate(stdoutOffset, stderrOffset, maxOutputChars);
        var max = (int)maxOutputChars;
        var stdoutFrom = (int)Math.Min(stdoutOffset, session.Stdout.Length);
        var stderrFrom = (int)Math.Min(stderrOffset, session.Stderr.Length);
        var stdoutLeft = session.Stdout.Length - stdoutFrom;
        var stderrLeft = session.Stderr.Length - stderrFrom;
        // Each stream may use half the budget, and whatever the other leaves unused.
        var stdoutShare = Math.Min(stdoutLeft, Math.Max(max / 2, max - stderrLeft));
        var stderrShare = Math.Min(stderrLeft, max - stdoutShare);
        var stdout = Slice(session.Stdout, stdoutFrom, stdoutShare);
        var stderr = Slice(session.Stderr, stderrFrom, stderrShare);
        var nextStdout = stdoutFrom + stdout.Length < session.Stdout.Length ? stdoutFrom + stdout.Length : (int?)null;
        var nextStderr = stderrFrom + stderr.Length < session.Stderr.Length ? stderrFrom + stderr.Length : (int?)null;

        var ranged = session with { Stdout = stdout, Stderr = stderr };
        var structured = WithRanges(ranged, stdoutFrom, session.Stdout.Length, nextStdout, stderrFrom, session.Stderr.Length, nextStderr);

        var text = ToolText.Session(ranged);
        if (stdoutFrom > 0 || stderrFrom > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $"\n[showing stdout from character {stdoutFrom} of {session.Stdout.Length}, stderr from character {stderrFrom} of {session.Stderr.Length}]");
        }
        if (nextStdout is { } cutStdout)
        {
            text += Marker("stdout", cutStdout, session.Id);
        }
        if (nextStderr is { } cutStderr)
        {
            text += Marker("stderr", cutStderr, session.Id);
        }
        return new CallToolResult
        {
            StructuredContent = structured,
            Content = [new TextContentBlock { Text = text }],
        };
    }

    /// <summary>
    /// The session's JSON with the range fields appended to it: written once, into this thread's scratch buffer
    /// (<see cref="ScratchJson"/>), with the fields in place of its closing brace, and parsed from there.
    /// </summary>
    private static JsonElement WithRanges(Session ranged, int stdoutFrom, int stdoutTotal, int? nextStdout, int stderrFrom, int stderrTotal, int? nextStderr)
    {
        var buffer = ScratchJson.Take();
        try
        {
            using (var writer = new Utf8JsonWriter(buffer))
            {
                JsonSerializer.Serialize(writer, ranged, KennelJson.Default.Session);
            }
            // The session is one JSON object with fields: its closing brace becomes a comma, the fields follow, and a
            // brace closes it again. (A fresh writer puts no comma before its first value.)
            MemoryMarshal.AsMemory(buffer.WrittenMemory).Span[^1] = (byte)',';
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
            {
                writer.WriteNumber("stdoutOffset", stdoutFrom);
                writer.WriteNumber("stdoutTotalChars", stdoutTotal);
                writer.WriteNumber("stderrOffset", stderrFrom);
                writer.WriteNumber("stderrTotalChars", stderrTotal);
                if (nextStdout is { } stdoutNext)
                {
                    writer.WriteNumber("nextStdoutOffset", stdoutNext);
                }
                if (nextStderr is { } stderrNext)
                {
                    writer.WriteNumber("nextStderrOffset", stderrNext);
                }
            }
            buffer.Write("}"u8);
            return JsonElement.Parse(buffer.WrittenSpan);
        }
        finally
        {
            ScratchJson.Release(buffer);
        }
    }

    /// <summary>
    /// A page with as many of its sessions as fit the budget (at least one, whose output is then cut to fit); when items
    /// are dropped, <c>nextCursor</c> points after the last one kept and the text says so.
    /// </summary>
    public static CallToolResult Page(SessionPage page)
    {
        var kept = new List<Session>();
        var used = 0;
        var cutOutput = false;
        foreach (var session in page.Items)
        {
            var size = JsonSerializer.Serialize(session, KennelJson.Default.Session).Length;
            if (used + size > MaxChars)
            {
                if (kept.Count > 0)
                {
                    break;
                }
                var half = MaxOutputChars / 2;
                kept.Add(session with { Stdout = Slice(session.Stdout, 0, half), Stderr = Slice(session.Stderr, 0, half) });
                cutOutput = true;
                break;
            }
            kept.Add(session);
            used += size;
        }
        var dropped = kept.Count < page.Items.Count;
        var fitted = dropped ? new SessionPage(kept, kept[^1].Id) : page with { Items = kept };
        var text = ToolText.Page(fitted);
        if (dropped)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $"\n[list truncated at {kept.Count} of {page.Items.Count} sessions to stay under about {MaxTokens} tokens: call list-sessions with cursor \"{fitted.NextCursor}\" for the rest]");
        }
        if (cutOutput)
        {
            text += $"\n[the output of {kept[0].Id} was cut to fit: call get-session with id \"{kept[0].Id}\" and stdoutOffset or stderrOffset to read it in ranges]";
        }
        return ToolResults.Of(fitted, KennelJson.Default.SessionPage, text);
    }

    /// <summary>Refuses a bad range before any work, with the argument at fault.</summary>
    public static void Validate(long stdoutOffset, long stderrOffset, long maxOutputChars)
    {
        if (stdoutOffset is < 0 or > int.MaxValue)
        {
            throw ApiProblem.Invalid("stdoutOffset", $"stdoutOffset must be between 0 and {int.MaxValue}: a character offset into stdout.");
        }
        if (stderrOffset is < 0 or > int.MaxValue)
        {
            throw ApiProblem.Invalid("stderrOffset", $"stderrOffset must be between 0 and {int.MaxValue}: a character offset into stderr.");
        }
        if (maxOutputChars is < 1 or > MaxOutputChars)
        {
            throw ApiProblem.Invalid("maxOutputChars", $"maxOutputChars must be between 1 and {MaxOutputChars}.");
        }
    }

    // A cut never splits a surrogate pair, so every range is valid text and the ranges concatenate to the whole.
    private static string Slice(string value, int start, int length)
    {
        length = Math.Min(length, value.Length - start);
        if (length > 0 && start + length < value.Length && char.IsHighSurrogate(value[start + length - 1]))
        {
            length += length > 1 ? -1 : 1;
        }
        return value.Substring(start, length);
    }

    private static string Marker(string stream, int next, string id) => string.Create(CultureInfo.InvariantCulture,
        $"\n[{stream} truncated at {next} characters: call get-session with id \"{id}\" and {stream}Offset={next} to read more]");
}
