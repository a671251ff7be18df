using System.Reflection;
using ModelContextProtocol.Server;

namespace Kennel.ControlPlane.Mcp.AgentTools;

/// <summary>
/// Marks a class as one tool of the agent endpoint (<c>/w/{workspace}/mcp</c>). The class holds one public static
/// method with <see cref="McpServerToolAttribute"/> (name, title, annotations, output schema),
/// <see cref="Kennel.Mcp.RequiresScopeAttribute"/> and a description written for a model; its parameters, with
/// descriptions and bounds, are the input schema, and services and the caller are injected. Adding a tool is adding
/// such a class: <see cref="AgentToolRegistry"/> finds it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AgentToolAttribute : Attribute;

/// <summary>The agent endpoint's tools: every <see cref="AgentToolAttribute"/> class of the control plane.</summary>
public static class AgentToolRegistry
{
    /// <summary>The tool methods, in name order.</summary>
    public static IReadOnlyList<MethodInfo> Methods { get; } =
    [
        .. typeof(AgentToolRegistry).Assembly.GetTypes()
            .Where(type => type.GetCustomAttribute<AgentToolAttribute>() is not null)
            .Select(type => type.GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Single(method => method.GetCustomAttribute<McpServerToolAttribute>() is not null))
            .OrderBy(method => method.GetCustomAttribute<McpServerToolAttribute>()!.Name, StringComparer.Ordinal),
    ];

    public static IReadOnlyList<McpServerTool> Tools(IServiceProvider services) =>
        [.. Methods.Select(method => McpServerTool.Create(method, (object?)null, new McpServerToolCreateOptions { Services = services }))];
}
