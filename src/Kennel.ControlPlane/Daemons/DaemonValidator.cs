using System.Text.RegularExpressions;
using Kennel.Contracts.Daemons;
using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Scheduling;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;

namespace Kennel.ControlPlane.Daemons;

/// <summary>A trigger, checked. The secret is present for a signed webhook only.</summary>
public sealed record ValidTrigger(string Type, string? Signature, string? Header, string? Secret, string? Cron, string? Timezone, string? CatchUp);

/// <summary>A daemon definition, checked and with its defaults filled in.</summary>
public sealed record ValidDaemon(string Name, StoredDaemonDefinition Definition, ValidTrigger Trigger, string Concurrency, string Status);

/// <summary>Checks every field of a daemon at the edge. A failure names the field and what is allowed.</summary>
public static partial class DaemonValidator
{
    public static ValidDaemon Validate(CreateDaemonRequest request, SnapshotCatalog snapshots, string? previousSecret = null)
    {
        var name = request.Name;
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw ApiProblem.Invalid("name", $"name is required: 1-{DaemonValues.MaxNameLength} characters of a-z, 0-9 and '-', starting with a letter or digit.");
        }
        var description = request.Description ?? "";
        if (description.Length > DaemonValues.MaxDescriptionLength)
        {
            throw ApiProblem.Invalid("description", $"description must be at most {DaemonValues.MaxDescriptionLength} characters.");
        }
        var workload = request.Workload ?? throw ApiProblem.Invalid("workload", "workload is required: {script} or {command}, with optional env and secrets.");
        var session = ValidateWorkload(workload, request, snapshots);
        var definition = new StoredDaemonDefinition
        {
            Description = description,
            Snapshot = session.Snapshot,
            Workload = new DaemonWorkload
            {
                Script = workload.Script,
                Command = workload.Command,
                Env = session.Spec.Env,
                Secrets = session.Spec.Secrets ?? [],
            },
            Vcpus = session.Vcpus,
            Network = session.Spec.Network(),
            MemoryMb = session.MemoryMb,
            TimeoutMs = session.TimeoutMs,
        };
        var concurrency = request.Concurrency ?? DaemonValues.Allow;
        if (concurrency is not (DaemonValues.Allow or DaemonValues.Skip or DaemonValues.Queue))
        {
            throw ApiProblem.Invalid("concurrency", "concurrency must be allow (runs overlap), skip (a trigger while a run is live is dropped) or queue (it waits its turn).");
        }
        var status = request.Status ?? DaemonValues.Active;
        if (status is not (DaemonValues.Active or DaemonValues.Paused))
        {
            throw ApiProblem.Invalid("status", "status must be active or paused.");
        }
        return new ValidDaemon(name, definition, ValidateTrigger(request.Trigger, previousSecret), concurrency, status);
    }

    private static ValidSessionRequest ValidateWorkload(DaemonWorkload workload, CreateDaemonRequest request, SnapshotCatalog snapshots)
    {
        try
        {
            return CreateSessionValidator.Validate(new CreateSessionRequest
            {
                Snapshot = request.Snapshot,
                Script = workload.Script,
                Command = workload.Command,
                Env = workload.Env,
                Secrets = workload.Secrets,
                TimeoutMs = request.TimeoutMs,
                Resources = request.Resources,
                Network = request.Network,
            }, snapshots);
        }
        catch (ApiProblem problem) when (problem.Field is { } field && (field is "script" or "command" or "secrets" || field.StartsWith("env", StringComparison.Ordinal)) && !field.StartsWith("network", StringComparison.Ordinal))
        {
            throw new ApiProblem(problem.Status, problem.Code, problem.Title, problem.Detail, $"workload.{field}");
        }
    }

    private static ValidTrigger ValidateTrigger(DaemonTriggerRequest? trigger, string? previousSecret)
    {
        if (trigger is null)
        {
            throw ApiProblem.Invalid("trigger", "trigger is required: {type: \"webhook\", signature, secret} or {type: \"schedule\", cron, timezone}.");
        }
        return trigger.Type switch
        {
            DaemonValues.Webhook => ValidateWebhook(trigger, previousSecret),
            DaemonValues.Schedule => ValidateSchedule(trigger),
            _ => throw ApiProblem.Invalid("trigger.type", "trigger.type must be webhook or schedule."),
        };
    }

    private static ValidTrigger ValidateWebhook(DaemonTriggerRequest trigger, string? previousSecret)
    {
        if (trigger.Cron is not null || trigger.Timezone is not null || trigger.CatchUp is not null)
        {
            throw ApiProblem.Invalid("trigger.cron", "cron, timezone and catchUp belong to a schedule trigger, not a webhook.");
        }
        var signature = trigger.Signature ?? throw ApiProblem.Invalid("trigger.signature",
            "trigger.signature is required: hmac-sha256 (GitHub's X-Hub-Signature-256), slack-v0 (Slack's signing secret), " +
            "or none to accept unsigned requests from anyone who knows the URL.");
        if (signature == WebhookSignature.None)
        {
            if (trigger.Secret is not null)
            {
                throw ApiProblem.Invalid("trigger.secret", "A webhook with signature none takes no secret.");
            }
            return new ValidTrigger(DaemonValues.Webhook, signature, null, null, null, null, null);
        }
        if (signature is not (WebhookSignature.HmacSha256 or WebhookSignature.SlackV0))
        {
            throw ApiProblem.Invalid("trigger.signature", "trigger.signature must be hmac-sha256, slack-v0 or none.");
        }
        var secret = trigger.Secret ?? previousSecret;
        if (secret is null || secret.Length is < DaemonValues.MinSecretLength or > DaemonValues.MaxSecretLength)
        {
            throw ApiProblem.Invalid("trigger.secret",
                $"trigger.secret is required for a signed webhook: the shared secret, {DaemonValues.MinSecretLength}-{DaemonValues.MaxSecretLength} characters.");
        }
        var header = trigger.Header ?? WebhookSignature.DefaultHeader(signature);
        if (!HeaderPattern().IsMatch(header))
        {
            throw ApiProblem.Invalid("trigger.header", "trigger.header must be an HTTP header name (letters, digits and '-').");
        }
        return new ValidTrigger(DaemonValues.Webhook, signature, header, secret, null, null, null);
    }

    private static ValidTrigger ValidateSchedule(DaemonTriggerRequest trigger)
    {
        if (trigger.Signature is not null || trigger.Secret is not null || trigger.Header is not null)
        {
            throw ApiProblem.Invalid("trigger.signature", "signature, secret and header belong to a webhook trigger, not a schedule.");
        }
        var (cron, timezone) = ScheduleValidation.Cron(trigger.Cron, trigger.Timezone, "trigger.cron", "trigger.timezone");
        var catchUp = trigger.CatchUp ?? CatchUpPolicy.Once;
        if (!CatchUpPolicy.IsValid(catchUp))
        {
            throw ApiProblem.Invalid("trigger.catchUp", "trigger.catchUp must be once (fire one run for those missed while down) or skip.");
        }
        return new ValidTrigger(DaemonValues.Schedule, null, null, null, cron, timezone, catchUp);
    }

    /// <summary>Whether a daemon could have this name; a public webhook URL with any other asks the store nothing.</summary>
    public static bool IsName(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}$")]
    private static partial Regex HeaderPattern();
}
