using System.Security.Cryptography;

namespace Kennel.Store;

/// <summary>
/// Identifiers that sort by creation time: 48 bits of Unix milliseconds then 80 random bits, in lowercase Crockford
/// base32 (the ULID layout). Within one process they are strictly increasing, so "newest first" is "largest id first".
/// </summary>
public static class SortableId
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly System.Buffers.SearchValues<char> AlphabetValues = System.Buffers.SearchValues.Create(Alphabet);
    private static readonly Lock Gate = new();
    private static long lastMilliseconds;
    private static readonly byte[] LastRandom = new byte[10];

    public const int Length = 26;

    public static string New(string prefix, TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        lock (Gate)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (now <= lastMilliseconds)
            {
                now = lastMilliseconds;
                Increment(LastRandom);
            }
            else
            {
                lastMilliseconds = now;
                RandomNumberGenerator.Fill(LastRandom);
                LastRandom[0] &= 0x7f; // headroom so increments within one millisecond never overflow
            }
            for (var i = 5; i >= 0; i--)
            {
                bytes[5 - i] = (byte)(now >> (i * 8));
            }
            LastRandom.CopyTo(bytes[6..]);
        }
        return string.Concat(prefix, "_", Encode(bytes));
    }

    public static bool IsValid(string? value, string prefix) =>
        value is not null
        && value.Length == prefix.Length + 1 + Length
        && value.StartsWith(prefix + "_", StringComparison.Ordinal)
        && value.AsSpan(prefix.Length + 1).IndexOfAnyExcept(AlphabetValues) < 0;

    private static void Increment(byte[] value)
    {
        for (var i = value.Length - 1; i >= 0 && ++value[i] == 0; i--)
        {
        }
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits -> 26 characters of 5 bits, most significant first (the first character carries 3 bits).
        var value = new UInt128(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        Span<char> chars = stackalloc char[Length];
        for (var i = Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }
}
