using System.Text.RegularExpressions;

namespace Kennel.ControlPlane.Skills;

/// <summary>A known attack pattern in a skill's text files.</summary>
internal sealed record SkillPattern(string Code, SkillVerdict Severity, string Message, Regex Regex);

/// <summary>Stage 5's patterns, all in one place. Each is matched against every text file, case-insensitively.</summary>
internal static class SkillPatterns
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    private const string Shell = @"(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da)?sh\b";

    public static readonly IReadOnlyList<SkillPattern> All =
    [
        Block("pipe_to_shell", "downloads a script and pipes it into a shell",
            $@"\b(?:curl|wget|fetch)\b[^\n|]*\|\s*{Shell}"),
        Block("pipe_to_shell", "pipes into a shell run with sudo", $@"\|\s*sudo\s+(?:-\S+\s+)*(?:ba|z|da)?sh\b"),
        Block("encoded_exec", "decodes base64 or hex and runs the result",
            $@"(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r(?:\s+-p)?)\b[^\n|]*\|\s*(?:{Shell}|python3?\b|perl\b|node\b)"),
        Block("encoded_exec", "evaluates the output of a base64 decode", @"\beval\s*[\s""']*\$\((?:[^\n)]*)base64"),
        Block("encoded_exec", "executes decoded base64 in Python", @"\b(?:exec|eval)\s*\(\s*(?:base64\.b64decode|codecs\.decode|bytes\.fromhex)"),
        Block("raw_ip_download", "fetches from a raw IP address", @"\b(?:https?|ftp)://\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/|\b)"),
        Block("url_shortener", "links through a URL shortener, hiding where it goes",
            @"\b(?:https?://)?(?:bit\.ly|tinyurl\.com|t\.co|goo\.gl|is\.gd|ow\.ly|buff\.ly|rebrand\.ly|cutt\.ly|shorturl\.at|rb\.gy|tiny\.cc)/[A-Za-z0-9]"),
        Block("encrypted_archive", "extracts a password-protected archive",
            @"\bunzip\b[^\n]*\s-P\s*\S|\b7z[a-z]?\s+[ex]\b[^\n]*\s-p\S*|\bgpg\b[^\n]*--passphrase"),
        Block("prompt_injection", "tells the model to drop its instructions",
            @"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:(?:the|your|my)\s+)?(?:previous|prior|earlier|above|system)\s+(?:instructions|prompts?|rules|messages)\b"),
        Block("prompt_injection", "tells the model to drop its system prompt",
            @"\b(?:ignore|disregard|forget|override|reveal)\s+(?:the\s+|your\s+)?system\s+prompt\b"),
        Block("hidden_text", "hides text in invisible Unicode tag characters", "\uDB40[\uDC00-\uDC7F]"),
        Block("hidden_text", "hides text in a run of zero-width characters", "[\u200B\u200C\u200D\u2060\u2062\u2063\u2064\uFEFF]{3,}"),
        Warn("credential_path", "reads a credentials location",
            @"~/\.(?:ssh|aws|gnupg|kube|docker/config\.json|netrc)\b|\$HOME/\.(?:ssh|aws|gnupg)\b|\bid_(?:rsa|ed25519|ecdsa|dsa)\b|\.git-credentials\b|/etc/shadow\b"),
    ];

    private static SkillPattern Block(string code, string message, string pattern) => new(code, SkillVerdict.Block, message, new Regex(pattern, Options));

    private static SkillPattern Warn(string code, string message, string pattern) => new(code, SkillVerdict.Warn, message, new Regex(pattern, Options));
}
