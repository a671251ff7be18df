using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Skills;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kennel.ControlPlane.Skills;

/// <summary><c>/v1/skills</c>: a workspace's installed skills, its registries and what they offer, installs, upgrades and uninstalls.</summary>
public static class SkillEndpoints
{
    public static void MapSkills(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/skills").RequireAuthorization(ScopePolicies.For(Scopes.Read));
        var write = app.MapGroup("/v1/skills").RequireAuthorization(ScopePolicies.For(Scopes.Write));

        read.MapGet("", async (HttpContext context, SkillService skills) =>
            TypedResults.Ok(await skills.ListAsync(Caller.From(context.User), context.RequestAborted)));

        read.MapGet("/registries", async (HttpContext context, SkillService skills) =>
            TypedResults.Ok(await skills.RegistriesAsync(Caller.From(context.User), context.RequestAborted)));

        read.MapGet("/browse", async (HttpContext context, SkillService skills, string? query, string? name, string? registry, string? limit) =>
            TypedResults.Ok(await skills.BrowseAsync(Caller.From(context.User), query, name, registry, Query.Int("limit", limit), context.RequestAborted)));

        read.MapGet("/{name}", async (HttpContext context, SkillService skills, string name) =>
            TypedResults.Ok(await skills.GetAsync(Caller.From(context.User), SkillService.ValidName(name), context.RequestAborted)));

        write.MapPost("", async Task<Results<Created<SkillInstallResult>, Ok<SkillInstallResult>>> (HttpContext context, SkillService skills) =>
        {
            var result = await skills.InstallAsync(Caller.From(context.User), await JsonBody.ReadAsync<InstallSkillRequest>(context.Request),
                context.RequestAborted);
            return result.Outcome == "installed" ? TypedResults.Created($"/v1/skills/{result.Skill.Name}", result) : TypedResults.Ok(result);
        });

        write.MapPost("/{name}/upgrade", async (HttpContext context, SkillService skills, string name) =>
            TypedResults.Ok(await skills.UpgradeAsync(Caller.From(context.User), name,
                await JsonBody.ReadAsync<UpgradeSkillRequest>(context.Request), context.RequestAborted)));

        write.MapDelete("/{name}", async (HttpContext context, SkillService skills, string name) =>
            TypedResults.Ok(await skills.UninstallAsync(Caller.From(context.User), name, context.RequestAborted)));
    }
}
