using System.Text;
using System.Text.RegularExpressions;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Snapshots;
using Kennel.Sandbox.Network;

namespace Kennel.ControlPlane.Sessions;

/// <summary>A session request, checked and with its defaults filled in: what the store keeps and the worker runs.</summary>
public sealed record ValidSessionRequest(string Snapshot, StoredSessionSpec Spec, long TimeoutMs, int Vcpus, int MemoryMb);

/// <summary>Checks every field of <c>POST /v1/sessions</c> at the edge. A failure names the field and what is allowed.</summary>
public static partial class CreateSessionValidator
{
    public static ValidSessionRequest Validate(CreateSessionRequest request, SnapshotCatalog snapshots)
    {
        var snapshot = request.Snapshot ?? SnapshotCatalog.TestMinimal;
        if (!snapshots.CanName(snapshot))
        {
            throw SnapshotCatalog.NotFound(snapshot, "snapshot");
        }

        ValidateWorkload(request);
        var timeoutMs = request.TimeoutMs ?? SessionLimits.DefaultTimeoutMs;
        if (timeoutMs is < SessionLimits.MinTimeoutMs or > SessionLimits.MaxTimeoutMs)
        {
            throw ApiProblem.Invalid("timeoutMs", $"timeoutMs must be between {SessionLimits.MinTimeoutMs} and {SessionLimits.MaxTimeoutMs}.");
        }
        var vcpus = request.Resources?.Vcpus ?? SessionLimits.DefaultVcpus;
        if (vcpus is < 1 or > SessionLimits.MaxVcpus)
        {
            throw ApiProblem.Invalid("resources.vcpus", $"resources.vcpus must be between 1 and {SessionLimits.MaxVcpus}.");
        }
        var memoryMb = request.Resources?.MemoryMb ?? SessionLimits.DefaultMemoryMb;
        if (memoryMb is < SessionLimits.MinMemoryMb or > SessionLimits.MaxMemoryMb)
        {
            throw ApiProblem.Invalid("resources.memoryMb",
                $"resources.memoryMb must be between {SessionLimits.MinMemoryMb} and {SessionLimits.MaxMemoryMb}.");
        }
        var network = Network(request.Network);
        var env = Env(request.Env);
        var secrets = Secrets(request.Secrets, env);
        var metadata = Metadata(request.Metadata);
        var spec = new StoredSessionSpec
        {
            Script = request.Script,
            Command = request.Command,
            Env = env,
            Secrets = secrets,
            NetworkMode = network?.ModeName ?? EgressPolicy.None,
            NetworkAllow = network is { Mode: EgressMode.Allowlist } ? [.. network.Rules.Select(r => r.ToString())] : null,
            NetworkByteCap = network?.ByteCap,
            Metadata = metadata,
        };
        return new ValidSessionRequest(snapshot, spec, timeoutMs, vcpus, memoryMb);
    }

    /// <summary>The network asked for, checked; null for none. Whether the caller may have <c>open</c> is <see cref="NetworkAccess"/>'s check.</summary>
    public static EgressPolicy? Network(SessionNetwork? network)
    {
        try
        {
            return EgressPolicy.Parse(network?.Mode, network?.Allow, network?.ByteCap);
        }
        catch (EgressPolicyException e) when (e.Field == "network.mode")
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedNetworkMode, "The network mode is not supported.", e.Message, e.Field);
        }
        catch (EgressPolicyException e)
        {
            throw ApiProblem.Invalid(e.Field, e.Message);
        }
    }

    private static void ValidateWorkload(CreateSessionRequest request)
    {
        if (request.Script is not null && request.Command is not null)
        {
            throw ApiProblem.Invalid("command", "Give either script or command, not both.");
        }
        if (request.Script is { } script)
        {
            if (string.IsNullOrWhiteSpace(script))
            {
                throw ApiProblem.Invalid("script", "script must not be empty.");
            }
            if (Encoding.UTF8.GetByteCount(script) > SessionLimits.MaxScriptBytes || script.Contains('\0', StringComparison.Ordinal))
            {
                throw ApiProblem.Invalid("script", $"script must be at most {SessionLimits.MaxScriptBytes} bytes and contain no NUL characters.");
            }
            return;
        }
        if (request.Command is { } command)
        {
            if (command.Count == 0 || string.IsNullOrEmpty(command[0]))
            {
                throw ApiProblem.Invalid("command", "command must be a non-empty array whose first element names the program.");
            }
            if (command.Count > SessionLimits.MaxCommandArgs || command.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
            {
                throw ApiProblem.Invalid("command", $"command takes at most {SessionLimits.MaxCommandArgs} strings, none containing NUL.");
            }
            return;
        }
        throw ApiProblem.Invalid("script", "Give a script (run by /bin/sh -c) or a command (an argv array).");
    }

    private static Dictionary<string, string> Env(IReadOnlyDictionary<string, string>? env)
    {
        if (env is null)
        {
            return [];
        }
        if (env.Count > SessionLimits.MaxEnvEntries)
        {
            throw ApiProblem.Invalid("env", $"env takes at most {SessionLimits.MaxEnvEntries} variables.");
        }
        var bytes = 0;
        foreach (var (name, value) in env)
        {
            if (EnvNameProblem(name) is { } problem)
            {
                throw ApiProblem.Invalid($"env.{name}", problem);
            }
            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw ApiProblem.Invalid($"env.{name}", "An env value must be a string without NUL characters.");
            }
            bytes += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
        }
        if (bytes > SessionLimits.MaxEnvBytes)
        {
            throw ApiProblem.Invalid("env", $"env must total at most {SessionLimits.MaxEnvBytes} bytes.");
        }
        return new Dictionary<string, string>(env, StringComparer.Ordinal);
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot name a variable of the workload's environment, or null when it can. Secret names
    /// follow the same rule, since each one becomes a variable.
    /// </summary>
    public static string? EnvNameProblem(string name) =>
        !EnvName().IsMatch(name) ? $"'{name}' is not a valid variable name: use letters, digits and '_', not starting with a digit (at most 128)."
        : name.StartsWith(Kennel.Sandbox.SandboxSpec.ReservedEnvPrefix, StringComparison.Ordinal)
            ? $"'{name}' is reserved: names starting with {Kennel.Sandbox.SandboxSpec.ReservedEnvPrefix} carry the workload's command into the sandbox."
            : null;

    /// <summary>The names of the secrets the workload sees as variables; whether they exist is the service's check.</summary>
    private static IReadOnlyList<string>? Secrets(IReadOnlyList<string>? secrets, Dictionary<string, string> env)
    {
        if (secrets is not { Count: > 0 })
        {
            return null;
        }
        if (secrets.Count > SessionLimits.MaxSecrets)
        {
            throw ApiProblem.Invalid("secrets", $"secrets takes at most {SessionLimits.MaxSecrets} names.");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in secrets)
        {
            if (name is null)
            {
                throw ApiProblem.Invalid("secrets", "secrets must be an array of secret names.");
            }
            if (EnvNameProblem(name) is { } problem)
            {
                throw ApiProblem.Invalid("secrets", problem);
            }
            if (!seen.Add(name))
            {
                throw ApiProblem.Invalid("secrets", $"'{name}' is listed twice in secrets.");
            }
            if (env.ContainsKey(name))
            {
                throw ApiProblem.Invalid("secrets", $"'{name}' is in both env and secrets: a variable comes from one or the other.");
            }
        }
        return [.. secrets];
    }

    private static Dictionary<string, string> Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return [];
        }
        if (metadata.Count > SessionLimits.MaxMetadataEntries)
        {
            throw ApiProblem.Invalid("metadata", $"metadata takes at most {SessionLimits.MaxMetadataEntries} entries.");
        }
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > SessionLimits.MaxMetadataKeyLength)
            {
                throw ApiProblem.Invalid("metadata", $"A metadata key must be 1-{SessionLimits.MaxMetadataKeyLength} characters.");
            }
            if (value is null || value.Length > SessionLimits.MaxMetadataValueLength)
            {
                throw ApiProblem.Invalid($"metadata.{key}", $"A metadata value must be a string of at most {SessionLimits.MaxMetadataValueLength} characters.");
            }
        }
        return new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvName();
}
