using System.Globalization;
using System.Text;
using Kennel.Contracts.Servers;

namespace Kennel.ControlPlane.Servers;

/// <summary>Servers as people read them: the MCP tools' text and the CLI's output.</summary>
public static class ServerText
{
    public static string Of(ConnectionTest test)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{test.Username}@{test.Address} port {test.Port}: ");
        text.Append(test.Error is { } error ? $"{error.Code}: {error.Message}" : "ok, it can become a worker");
        if (test.HostKey is { } key)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nhost key {key.Algorithm} {key.Fingerprint} ({key.Trust})");
        }
        if (test.System is { } s)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{s.Os} {s.Distribution} {s.Version} {s.Architecture}, kernel {s.Kernel}");
            text.Append(CultureInfo.InvariantCulture, $"\n{(s.Root ? "root" : s.PasswordlessSudo ? "passwordless sudo" : "no root, no passwordless sudo")}, " +
                $"systemd {(s.Systemd ? "yes" : "no")}, package manager {s.PackageManager ?? "none"}");
            text.Append(CultureInfo.InvariantCulture, $"\nbubblewrap {(s.BubblewrapUsable ? "usable" : s.BubblewrapInstalled ? "installed, not usable" : "not installed")}, " +
                $"cgroups {s.Cgroups} {(s.CgroupsUsable ? "usable" : "not usable")}");
            text.Append(CultureInfo.InvariantCulture, $"\n{s.Cpus} CPUs, {s.MemoryAvailableMb} of {s.MemoryTotalMb} MiB memory available, {s.DiskFreeMb} MiB disk free");
        }
        return text.ToString();
    }

    public static string Of(Server server)
    {
        var text = new StringBuilder();
        if (server.Cloud is { } cloud)
        {
            text.Append(CultureInfo.InvariantCulture, $"{server.Id} {server.Name}: {cloud.Provider} {cloud.Region} {cloud.InstanceId ?? "(no instance yet)"} {server.Address}, {server.Status}");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{server.Id} {server.Name}: {server.Username}@{server.Address} port {server.Port}, {server.Status}");
        }
        if (server.Error is { } error)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({error.Code})");
        }
        if (server.LastStep is { } step)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nlast step {step.At:u}: {step.Message}");
        }
        if (server.HostKey is { } key)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nhost key {key}");
        }
        if (server.Worker is { } worker)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nworker {worker.Id} {worker.Health}{(worker.DrainingSince is null ? "" : " (draining)")}, {worker.Used.Slots}/{worker.Capacity.Slots} slots, " +
                $"{worker.Used.Vcpus}/{worker.Capacity.Vcpus} vCPUs, {worker.Used.MemoryMb}/{worker.Capacity.MemoryMb} MiB in use");
        }
        return text.ToString();
    }
}
