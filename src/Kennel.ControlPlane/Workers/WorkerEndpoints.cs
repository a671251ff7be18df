using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.Workers;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Skills;
using Microsoft.Extensions.Hosting;

namespace Kennel.ControlPlane.Workers;

public static class WorkerEndpoints
{
    public const long WorkerProtocolBodyLimit = 16 * 1024 * 1024;

    /// <summary>The fleet as admins see it.</summary>
    public static void MapWorkers(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/workers").RequireAuthorization(ScopePolicies.For(Scopes.Admin));

        admin.MapGet("", async (HttpContext context, WorkerRegistry workers) =>
            TypedResults.Ok(await workers.ListAsync(Caller.From(context.User), context.RequestAborted)));

        admin.MapPost("/tokens", async (HttpContext context, WorkerRegistry workers) =>
        {
            var request = context.Request.ContentLength is null or 0 && !context.Request.HasJsonContentType()
                ? new CreateWorkerTokenRequest(null)
                : await JsonBody.ReadAsync<CreateWorkerTokenRequest>(context.Request);
            return TypedResults.Created("/v1/workers", await workers.CreateTokenAsync(Caller.From(context.User), request.TtlSeconds, context.RequestAborted));
        });
    }

    /// <summary>
    /// The worker protocol: enroll with a one-time token, then poll (heartbeat, claim, cancel notices) and report
    /// (started, output, exit) and fetch the skill archives a session mounts, with the per-worker credential. The embedded worker speaks it too, over loopback.
    /// </summary>
    public static void MapWorkerProtocol(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/worker/enroll", async (HttpContext context, WorkerRegistry workers) =>
        {
            var request = await JsonBody.ReadAsync<EnrollRequest>(context.Request);
            return TypedResults.Created("/v1/workers", await workers.EnrollAsync(request, context.RequestAborted));
        });

        // Reports carry output; the worker bounds each one, and this limit is the protocol's own, apart from the public API's.
        var worker = app.MapGroup("/v1/worker").RequireAuthorization(ScopePolicies.Worker)
            .WithMetadata(new BodySizeLimit(WorkerProtocolBodyLimit));

        worker.MapPost("/poll", async (HttpContext context, SessionQueue queue, IHostApplicationLifetime lifetime) =>
        {
            var request = await JsonBody.ReadAsync<PollRequest>(context.Request);
            // A held poll must not keep a stopping server waiting: on shutdown it ends early and empty.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            try
            {
                return TypedResults.Ok(await queue.PollAsync(WorkerId(context), request, stopping.Token));
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return TypedResults.Ok(new PollResponse([], [], 0));
            }
        });

        worker.MapPost("/sessions/{id}/report", async (HttpContext context, SessionQueue queue, string id) =>
        {
            var report = await JsonBody.ReadAsync<SessionReport>(context.Request, nulAllowed: true);
            return TypedResults.Ok(await queue.ReportAsync(WorkerId(context), id, report, context.RequestAborted));
        });

        // A skill's archive, by hash, for a worker about to mount it. A hash none of the worker's live sessions lists is
        // answered as if it did not exist, so a worker cannot probe or read other workspaces' skills.
        worker.MapGet("/skills/{sha256}", async (HttpContext context, SkillMounts skills, string sha256) =>
        {
            if (!SkillMounts.IsHash(sha256))
            {
                throw ApiProblem.Invalid("sha256", "sha256 must be 64 lower-case hex digits.");
            }
            var archive = await skills.ArchiveForWorkerAsync(WorkerId(context), sha256, context.RequestAborted)
                ?? throw ApiProblem.NotFound("skill", sha256);
            return TypedResults.Bytes(archive, "application/gzip");
        });

        // A snapshot image, by digest, for a worker holding a live session on it; any other digest is answered as unknown.
        // Streamed from the image directory, which every replica shares.
        worker.MapGet("/snapshots/{digest}", async (HttpContext context, Snapshots.SnapshotStore snapshots, Snapshots.Build.SnapshotOptions options, string digest) =>
        {
            if (!Kennel.Sandbox.Snapshots.SnapshotImage.IsDigest(digest))
            {
                throw ApiProblem.Invalid("digest", "digest must be 64 lower-case hex digits.");
            }
            var path = options.ImagePath(digest);
            if (!await snapshots.WorkerMayFetchAsync(WorkerId(context), digest, context.RequestAborted) || !File.Exists(path))
            {
                throw ApiProblem.NotFound("snapshot image", digest);
            }
            return TypedResults.PhysicalFile(path, "application/x-tar");
        });
    }

    private static string WorkerId(HttpContext context) =>
        context.User.FindFirst(BearerAuthenticationHandler.WorkerIdClaim)?.Value ?? throw ApiProblem.Unauthorized("A worker credential is required.");
}

/// <summary>
/// An endpoint's own request body limit, which routing applies before the handler reads the body. Kennel's own rather
/// than MVC's <c>RequestSizeLimitAttribute</c>, whose assembly would otherwise be loaded (and held in memory) for this alone.
/// </summary>
internal sealed record BodySizeLimit(long? MaxRequestBodySize) : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata;
