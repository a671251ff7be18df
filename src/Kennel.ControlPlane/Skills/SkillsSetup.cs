using Kennel.ControlPlane.Skills.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace Kennel.ControlPlane.Skills;

/// <summary>Agent skills: what sandboxes mount, the registries' client and (as the feature grows) installs and the service.</summary>
public static class SkillsSetup
{
    /// <summary>The registry client connects through the <see cref="Http.OutboundAddresses"/> that <c>AddDelivery</c> registers.</summary>
    public static IServiceCollection AddSkills(this IServiceCollection services, SkillRegistryOptions? registries = null)
    {
        services.AddSingleton<SkillMounts>();
        services.AddSingleton(registries ?? new SkillRegistryOptions());
        services.AddSingleton<SkillRegistryClient>();
        return services;
    }
}
