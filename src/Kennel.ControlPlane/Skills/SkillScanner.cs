using System.Buffers.Binary;
using System.Text;

namespace Kennel.ControlPlane.Skills;

/// <summary>Stage 5: the static scan of every file's content for <see cref="SkillPatterns"/> and encrypted archives.</summary>
internal static class SkillScanner
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEnumerable<SkillReason> Scan(string path, byte[] content)
    {
        if (HasEncryptedZipEntry(content))
        {
            yield return SkillReason.Block("encrypted_archive", "holds a password-protected zip archive, which cannot be inspected", path);
        }
        if (Text(content) is not { } text)
        {
            yield break;
        }
        // One finding per code and file: several patterns may describe the same attack on the same line.
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pattern in SkillPatterns.All)
        {
            if (!found.Contains(pattern.Code) && pattern.Regex.Match(text) is { Success: true } match && found.Add(pattern.Code))
            {
                yield return new SkillReason(pattern.Code, pattern.Severity, $"{pattern.Message} (line {Line(text, match.Index)})", path);
            }
        }
    }

    /// <summary>The content as text, or null for binary content (not UTF-8, or holding a NUL byte).</summary>
    public static string? Text(byte[] content)
    {
        if (Array.IndexOf(content, (byte)0) >= 0)
        {
            return null;
        }
        try
        {
            return StrictUtf8.GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Any zip local file header (PK\x03\x04) whose general-purpose flags have the encrypted bit set.</summary>
    private static bool HasEncryptedZipEntry(byte[] content)
    {
        ReadOnlySpan<byte> signature = [0x50, 0x4b, 0x03, 0x04];
        var span = content.AsSpan();
        for (var at = span.IndexOf(signature); at >= 0 && at + 8 <= span.Length;)
        {
            if ((BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(at + 6, 2)) & 1) != 0)
            {
                return true;
            }
            var next = span[(at + 4)..].IndexOf(signature);
            at = next < 0 ? -1 : at + 4 + next;
        }
        return false;
    }

    private static int Line(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;
}
