using Kennel.Contracts;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Skills.Registry;

namespace Kennel.ControlPlane.Skills;

/// <summary>The refusals of the skills service, each with a stable code and a detail that says what to do.</summary>
internal static class SkillProblems
{
    public const string Blocked = "skill_blocked";
    public const string WarningsNotAcknowledged = "warnings_not_acknowledged";
    public const string Tampered = "skill_tampered";
    public const string AlreadyInstalled = "skill_installed";
    public const string RegistryUnavailable = "registry_unavailable";
    public const string LimitReached = "skill_limit_reached";

    public static ApiProblem Refused(string code, string title, string detail, IReadOnlyList<SkillReason> reasons) =>
        new(StatusCodes.Status422UnprocessableEntity, code, title, detail + Lines(reasons))
        {
            Reasons = [.. reasons.Select(reason => new ProblemReason(reason.Code, reason.Message, reason.Path))],
        };

    /// <summary>A registry or archive fetch that failed: 502, since the registry (not the request) is at fault, or 422 for an oversize archive.</summary>
    public static ApiProblem Fetch(SkillRegistryConfig registry, SkillRegistryException failure) => failure.Code == "archive_too_large"
        ? Refused(Blocked, "The skill was refused.", $"The archive from registry '{registry.Name}' is too large.",
            [SkillReason.Block("too_large", failure.Message, null)])
        : new ApiProblem(StatusCodes.Status502BadGateway, RegistryUnavailable, "The skill registry did not answer as it should.",
            $"Registry '{registry.Name}': {failure.Message} ({failure.Code}).");

    public static ApiProblem UnknownRegistry(string name) => new(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such registry.",
        $"This workspace has no skill registry '{name}'. skills_registries lists them; add one with kennel config set skills.registries.{name} " +
        "'{\"url\": \"https://…/index.json\"}'.");

    public static string Lines(IReadOnlyList<SkillReason> reasons) =>
        string.Concat(reasons.Select(reason => $"\n- {reason.Code}{(reason.Path is null ? "" : $" ({reason.Path})")}: {reason.Message}"));
}
