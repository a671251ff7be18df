using System.Globalization;
using System.Runtime.InteropServices;

namespace Kennel.Sandbox;

/// <summary>
/// The passwd entry a root worker can hand to <see cref="System.Diagnostics.ProcessStartInfo.UserName"/>, so the
/// forked child drops to the sandbox's host uid before it execs anything.
/// </summary>
/// <remarks>
/// .NET resolves the name again at each start (getpwnam_r), and in the child calls setgroups with the user's
/// getgrouplist, then setgid with the entry's gid, then setuid. That matches <c>HostUid</c>/<c>HostGid</c> only
/// when the entry's uid and gid are exactly those, the name maps back to the same uid, and the user belongs to no
/// other group. <see cref="TryResolve"/> checks all of it once, at the probe.
/// </remarks>
internal static partial class HostUser
{
    private const int Found = 0;

    /// <summary>The user name that makes .NET drop to exactly <paramref name="uid"/>:<paramref name="gid"/> with no other groups, or null and why not.</summary>
    public static string? TryResolve(int uid, int gid, out string reason)
    {
        var entry = ByUid((uint)uid);
        if (entry is null)
        {
            reason = $"host uid {uid} has no passwd entry";
            return null;
        }

        var (name, entryGid) = entry.Value;
        if (entryGid != (uint)gid)
        {
            reason = $"the passwd entry of host uid {uid} ({name}) has gid {entryGid}, not the configured host gid {gid}";
            return null;
        }

        if (ByName(name) is not { } byName || byName != (uint)uid)
        {
            reason = $"the user name {name} of host uid {uid} resolves to another uid";
            return null;
        }

        var groups = GroupList(name, (uint)gid);
        if (groups is null || groups.Any(g => g != (uint)gid))
        {
            var list = groups is null ? "unknown" : string.Join(',', groups.Select(g => g.ToString(CultureInfo.InvariantCulture)));
            reason = $"host user {name} belongs to groups other than {gid} ({list})";
            return null;
        }

        reason = "";
        return name;
    }

    private static unsafe (string Name, uint Gid)? ByUid(uint uid)
    {
        Passwd passwd;
        Passwd* result = null;
        var buffer = new byte[16 * 1024];
        fixed (byte* b = buffer)
        {
            if (GetPwUidR(uid, &passwd, b, (nuint)buffer.Length, &result) != Found || result == null)
            {
                return null;
            }

            return (Marshal.PtrToStringUTF8(passwd.Name) ?? "", passwd.Gid);
        }
    }

    private static unsafe uint? ByName(string name)
    {
        Passwd passwd;
        Passwd* result = null;
        var buffer = new byte[16 * 1024];
        fixed (byte* b = buffer)
        {
            if (GetPwNamR(name, &passwd, b, (nuint)buffer.Length, &result) != Found || result == null)
            {
                return null;
            }

            return passwd.Uid;
        }
    }

    private static unsafe uint[]? GroupList(string name, uint gid)
    {
        var groups = new uint[64];
        var count = groups.Length;
        fixed (uint* g = groups)
        {
            if (GetGroupList(name, gid, g, &count) < 0)
            {
                return null;
            }
        }

        return groups[..count];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        public nint Gecos;
        public nint Directory;
        public nint Shell;
    }

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    private static unsafe partial int GetPwUidR(uint uid, Passwd* passwd, byte* buffer, nuint length, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int GetPwNamR(string name, Passwd* passwd, byte* buffer, nuint length, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int GetGroupList(string name, uint gid, uint* groups, int* count);
}
