using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Kennel.Contracts.Servers;
using Kennel.ControlPlane.Http;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Kennel.ControlPlane.Servers;

/// <summary>
/// A validated way in to a machine: address, port, user and one credential. Built only by <see cref="Parse"/>, which
/// refuses bad input with the field at fault, so nothing after it sees an address that is not one or a key that does not
/// parse. Holds the credential in memory only; never logged, never returned.
/// </summary>
public sealed partial class SshTarget : IDisposable
{
    public const int DefaultPort = 22;
    public const string DefaultUsername = "root";
    public const int MaxPrivateKeyBytes = 16 * 1024;
    public const int MaxPasswordChars = 1024;
    public const int DefaultTimeoutSeconds = 10;
    public const int MaxTimeoutSeconds = 60;

    private readonly PrivateKeyFile? privateKey;
    private readonly string? password;
    private readonly string? keyText;
    private readonly string? passphrase;

    private SshTarget(string address, int port, string username, string? password, PrivateKeyFile? privateKey, string? expectedHostKey, TimeSpan timeout,
        string? keyText = null, string? passphrase = null)
    {
        this.keyText = keyText;
        this.passphrase = passphrase;
        Address = address;
        Port = port;
        Username = username;
        this.password = password;
        this.privateKey = privateKey;
        ExpectedHostKey = expectedHostKey;
        Timeout = timeout;
    }

    public string Address { get; }
    public int Port { get; }
    public string Username { get; }
    public string? ExpectedHostKey { get; }
    public TimeSpan Timeout { get; }

    /// <summary><c>password</c> or <c>private key</c>: for messages, never the credential itself.</summary>
    public string AuthMethod => privateKey is null ? "password" : "private key";

    /// <summary>The credential as given, for a server whose credential the caller asked Kennel to keep (encrypted).</summary>
    public StoredCredential Credential => new(password, keyText, passphrase);

    public static SshTarget Parse(TestConnectionRequest request)
    {
        var address = ValidAddress(request.Address);
        var port = request.Port ?? DefaultPort;
        if (port is < 1 or > 65535)
        {
            throw ApiProblem.Invalid("port", "port must be between 1 and 65535.");
        }
        var username = request.Username ?? DefaultUsername;
        if (!UsernamePattern().IsMatch(username))
        {
            throw ApiProblem.Invalid("username", "username must be 1-32 characters of letters, digits, '_', '.' and '-', not starting with '-' or '.'.");
        }
        var timeout = request.TimeoutSeconds ?? DefaultTimeoutSeconds;
        if (timeout is < 1 or > MaxTimeoutSeconds)
        {
            throw ApiProblem.Invalid("timeoutSeconds", $"timeoutSeconds must be between 1 and {MaxTimeoutSeconds}.");
        }
        var expected = request.ExpectedHostKey;
        if (expected is not null && !FingerprintPattern().IsMatch(expected))
        {
            throw ApiProblem.Invalid("expectedHostKey", "expectedHostKey must be a SHA-256 fingerprint as 'ssh-keygen -lf' prints it: 'SHA256:' and 43 base64 characters.");
        }
        if ((request.Password is null) == (request.PrivateKey is null))
        {
            throw ApiProblem.Invalid(request.Password is null ? "password" : "privateKey", "Give exactly one of password or privateKey.");
        }
        if (request.Passphrase is not null && request.PrivateKey is null)
        {
            throw ApiProblem.Invalid("passphrase", "passphrase goes with privateKey: it decrypts the key.");
        }
        if (request.Password is { } secret)
        {
            if (secret.Length is 0 or > MaxPasswordChars)
            {
                throw ApiProblem.Invalid("password", $"password must be 1-{MaxPasswordChars} characters.");
            }
            return new SshTarget(address, port, username, secret, null, expected, TimeSpan.FromSeconds(timeout));
        }
        return new SshTarget(address, port, username, null, ParseKey(request.PrivateKey!, request.Passphrase), expected, TimeSpan.FromSeconds(timeout),
            request.PrivateKey, request.Passphrase);
    }

    /// <summary>The connection settings for SSH.NET; the password also answers keyboard-interactive prompts, which PAM-based servers use.</summary>
    public Renci.SshNet.ConnectionInfo ConnectionInfo()
    {
        AuthenticationMethod[] methods;
        if (privateKey is not null)
        {
            methods = [new PrivateKeyAuthenticationMethod(Username, privateKey)];
        }
        else
        {
            var interactive = new KeyboardInteractiveAuthenticationMethod(Username);
            interactive.AuthenticationPrompt += (_, prompt) =>
            {
                foreach (var question in prompt.Prompts)
                {
                    question.Response = password;
                }
            };
            methods = [new PasswordAuthenticationMethod(Username, password), interactive];
        }
        return new Renci.SshNet.ConnectionInfo(Address, Port, Username, methods) { Timeout = Timeout };
    }

    public void Dispose()
    {
        privateKey?.Dispose();
    }

    /// <summary>A Unix user name Kennel logs in as: the rule of <see cref="Parse"/>'s username.</summary>
    internal static bool IsUsername(string username) => UsernamePattern().IsMatch(username);

    private static string ValidAddress(string? address)
    {
        const string what = "address must be a host name (such as worker1.example.com) or an IP address, without a user, port or scheme.";
        if (string.IsNullOrEmpty(address) || address.Length > 253)
        {
            throw ApiProblem.Invalid("address", what);
        }
        var literal = address.StartsWith('[') && address.EndsWith(']') ? address[1..^1] : address;
        if (literal.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(literal, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !literal.Contains('%', StringComparison.Ordinal)
                ? Routable(v6, address)
                : throw ApiProblem.Invalid("address", what);
        }
        if (DigitsAndDotsPattern().IsMatch(address))
        {
            // IPAddress.TryParse takes "10.1" and "010.0.0.1" as IPv4 in forms nobody means; only four decimal octets are an address.
            return Ipv4Pattern().IsMatch(address) && IPAddress.TryParse(address, out var v4) ? Routable(v4, address) : throw ApiProblem.Invalid("address", what);
        }
        return HostNamePattern().IsMatch(address) ? address.TrimEnd('.').ToLowerInvariant() : throw ApiProblem.Invalid("address", what);
    }

    private static string Routable(IPAddress ip, string given)
    {
        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast) || ip.IsIPv6Multicast ||
            (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes()[0] is >= 224))
        {
            throw ApiProblem.Invalid("address", $"{given} is not the address of one machine (unspecified, broadcast, multicast or reserved).");
        }
        return ip.ToString();
    }

    private static PrivateKeyFile ParseKey(string key, string? passphrase)
    {
        if (Encoding.UTF8.GetByteCount(key) > MaxPrivateKeyBytes)
        {
            throw ApiProblem.Invalid("privateKey", $"privateKey is larger than {MaxPrivateKeyBytes / 1024} KiB; no SSH private key is that large.");
        }
        if (passphrase is { Length: 0 or > MaxPasswordChars })
        {
            throw ApiProblem.Invalid("passphrase", $"passphrase must be 1-{MaxPasswordChars} characters.");
        }
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(key.Replace("\r\n", "\n", StringComparison.Ordinal)));
        try
        {
            return new PrivateKeyFile(stream, passphrase);
        }
        catch (SshPassPhraseNullOrEmptyException)
        {
            throw ApiProblem.Invalid("passphrase", "privateKey is encrypted: give its passphrase.");
        }
        catch (Exception unreadable) when (unreadable is SshException or ArgumentException or FormatException or InvalidOperationException or
            NotSupportedException or System.Security.Cryptography.CryptographicException or IndexOutOfRangeException or EndOfStreamException)
        {
            // The library's message is not shown: for a wrong passphrase it can describe the decrypted bytes.
            throw ApiProblem.Invalid("privateKey", passphrase is null
                ? "privateKey does not parse: give the whole key file (OpenSSH, PEM or PuTTY format), from its BEGIN line to its END line."
                : "privateKey does not parse, or the passphrase does not decrypt it.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$")]
    private static partial Regex UsernamePattern();

    [GeneratedRegex("^SHA256:[A-Za-z0-9+/]{43}$")]
    private static partial Regex FingerprintPattern();

    [GeneratedRegex("^[0-9.]+$")]
    private static partial Regex DigitsAndDotsPattern();

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")]
    private static partial Regex HostNamePattern();
}

/// <summary>A kept credential, as JSON inside the encrypted column.</summary>
public sealed record StoredCredential(string? Password, string? PrivateKey, string? Passphrase);
