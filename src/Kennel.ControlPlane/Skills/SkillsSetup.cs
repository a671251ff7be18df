using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Skills;

/// <summary>Agent skills: what sandboxes mount, and (as the feature grows) registries, installs and the service.</summary>
public static class SkillsSetup
{
    public static IServiceCollection AddSkills(this IServiceCollection services)
    {
        services.AddSingleton<SkillMounts>();
        return services;
    }
}
