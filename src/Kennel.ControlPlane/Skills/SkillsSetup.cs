using Kennel.ControlPlane.Skills.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Skills;

/// <summary>Agent skills: registries, the install path and its store, eligibility, and what sandboxes mount.</summary>
public static class SkillsSetup
{
    public static IServiceCollection AddSkills(this IServiceCollection services)
    {
        services.AddSingleton(SkillLimits.Default);
        services.AddSingleton<SkillRegistryClient>();
        services.AddSingleton<SkillStore>();
        services.AddSingleton<SkillEligibility>();
        services.AddSingleton<SkillService>();
        services.AddSingleton<SkillMounts>();
        return services;
    }
}
