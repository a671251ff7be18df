using Kennel.ControlPlane.Skills.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Skills;

/// <summary>Agent skills: the registries' client, the install path and its store, eligibility, and what sandboxes mount.</summary>
public static class SkillsSetup
{
    /// <summary>The registry client connects through the <see cref="Http.OutboundAddresses"/> that <c>AddDelivery</c> registers.</summary>
    public static IServiceCollection AddSkills(this IServiceCollection services, SkillRegistryOptions? registries = null)
    {
        services.AddSingleton(registries ?? new SkillRegistryOptions());
        services.AddSingleton<SkillRegistryClient>();
        services.AddSingleton(SkillLimits.Default);
        services.AddSingleton<SkillStore>();
        services.AddSingleton<SkillEligibility>();
        services.AddSingleton<SkillService>();
        services.AddSingleton<SkillMounts>();
        return services;
    }
}
