using System.Text.Json;
using Kennel.Contracts.Snapshots;
using Kennel.ControlPlane.Auth;
using Kennel.ControlPlane.Daemons;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Snapshots.Build;
using Kennel.ControlPlane.Snapshots.Recipes;
using Kennel.Store;

namespace Kennel.ControlPlane.Snapshots;

/// <summary>What people and their tools can do with snapshots. REST, CLI and MCP are thin faces over these calls.</summary>
public sealed class SnapshotService(
    SnapshotStore store, SnapshotCatalog catalog, DaemonStore daemons, BuildSignal signal, SnapshotOptions options, TimeProvider time)
{
    public const int MaxTags = 16;

    /// <summary>Validates the request and queues the build; the builder takes it from there. Answers the build as accepted (building).</summary>
    public async Task<SnapshotView> BuildAsync(Caller caller, BuildSnapshotRequest request, CancellationToken cancellationToken)
    {
        if (!SnapshotReference.IsName(request.Name) || SnapshotCatalog.IsBuiltIn(request.Name!))
        {
            throw ApiProblem.Invalid("name", "name is 1-63 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, and not a built-in's.");
        }
        var tags = request.Tags is null or { Count: 0 } ? [SnapshotReference.DefaultTag] : request.Tags.Distinct(StringComparer.Ordinal).ToList();
        if (tags.Count > MaxTags || tags.Any(t => !SnapshotReference.IsTag(t)))
        {
            throw ApiProblem.Invalid("tags", $"tags are at most {MaxTags}, each 1-128 letters, digits, '.', '_' and '-', not starting with '.' or '-'.");
        }
        var recipe = SnapshotRecipeParser.Parse(request.Recipe);
        if (recipe.Base.Snapshot is { } baseName)
        {
            // Pinned now: the build is made from what the tag named when it was asked for.
            var resolved = await catalog.RequireAsync(caller.WorkspaceId, baseName, "recipe.base.snapshot", cancellationToken)
                ?? throw ApiProblem.Invalid("recipe.base.snapshot", "A built-in snapshot cannot be a base; start from debootstrap or another build.");
            recipe = recipe with { Base = new RecipeBase { Snapshot = $"{resolved.Name}@sha256:{resolved.Digest}" } };
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new SnapshotRow
        {
            Id = SortableId.New("snp", time),
            WorkspaceId = caller.WorkspaceId,
            Name = request.Name!,
            Status = SnapshotStatus.Building,
            Base = recipe.Base.Describe(),
            Recipe = JsonSerializer.Serialize(recipe, SnapshotJson.Default.SnapshotRecipe),
            Tags = JsonSerializer.Serialize(tags.ToArray(), SnapshotJson.Default.StringArray),
            CreatedBy = caller.UserId ?? caller.CredentialId,
            CreatedAt = now,
            Log = "",
        };
        await store.InsertAsync(row, cancellationToken);
        signal.Pulse();
        return SnapshotViews.From(row, [], 0);
    }

    public async Task<SnapshotView> GetAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var row = await store.GetAsync(caller.WorkspaceId, id, withLog: true, cancellationToken) ?? throw ApiProblem.NotFound("snapshot", id);
        var tags = await store.TagsAsync(caller.WorkspaceId, cancellationToken);
        var holdings = await store.WorkerHoldingsAsync(cancellationToken);
        return SnapshotViews.From(row, tags, SnapshotViews.Holders(holdings, row.Digest)) with { Log = row.Log };
    }

    /// <summary>The build's log from <paramref name="offset"/> on, and whether the build has ended: for following it live.</summary>
    public async Task<(string Text, bool Ended, SnapshotRow Row)> ReadLogAsync(Caller caller, string id, int offset, CancellationToken cancellationToken)
    {
        var row = await store.GetAsync(caller.WorkspaceId, id, withLog: true, cancellationToken) ?? throw ApiProblem.NotFound("snapshot", id);
        return (offset < row.Log.Length ? row.Log[offset..] : "", row.Status != SnapshotStatus.Building, row);
    }

    /// <summary>Built-ins first, then the workspace's builds, newest first.</summary>
    public async Task<SnapshotViewList> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        var rows = await store.ListAsync(caller.WorkspaceId, cancellationToken);
        var tags = await store.TagsAsync(caller.WorkspaceId, cancellationToken);
        var holdings = await store.WorkerHoldingsAsync(cancellationToken);
        return new SnapshotViewList([.. SnapshotViews.BuiltIns(), .. rows.Select(row => SnapshotViews.From(row, tags, SnapshotViews.Holders(holdings, row.Digest)))]);
    }

    /// <summary>Points <c>name:tag</c> at a ready snapshot of the same name (by id or <c>name@sha256:…</c>), recording the move.</summary>
    public async Task<SnapshotTagHistory> TagAsync(Caller caller, string name, string tag, TagSnapshotRequest request, CancellationToken cancellationToken)
    {
        CheckTag(name, tag);
        var target = request.Snapshot ?? throw ApiProblem.Invalid("snapshot", "snapshot is required: the id (snp_…) or name@sha256:… to tag.");
        var row = target.StartsWith("snp_", StringComparison.Ordinal)
            ? await store.GetAsync(caller.WorkspaceId, target, withLog: false, cancellationToken)
            : await catalog.RequireAsync(caller.WorkspaceId, target, "snapshot", cancellationToken);
        if (row is null || row.Status != SnapshotStatus.Ready)
        {
            throw SnapshotCatalog.NotFound(target, "snapshot");
        }
        if (row.Name != name)
        {
            throw ApiProblem.Invalid("snapshot", $"A tag of '{name}' points to a snapshot of that name; '{target}' is '{row.Name}'.");
        }
        await store.MoveTagAsync(caller.WorkspaceId, name, tag, row.Id, "tag", caller.UserId ?? caller.CredentialId, Now(), cancellationToken);
        return await HistoryAsync(caller, name, tag, cancellationToken);
    }

    /// <summary>Moves the tag back to where it pointed before its latest move; that is recorded too, so a rollback can be rolled back.</summary>
    public async Task<SnapshotTagHistory> RollbackAsync(Caller caller, string name, string tag, CancellationToken cancellationToken)
    {
        CheckTag(name, tag);
        var events = await store.TagEventsAsync(caller.WorkspaceId, name, tag, cancellationToken);
        if (events.Count == 0)
        {
            throw ApiProblem.NotFound("tag", $"{name}:{tag}");
        }
        var previous = events[0].PreviousSnapshotId
            ?? throw ApiProblem.Conflict("nothing_to_roll_back", $"{name}:{tag} has pointed only to {events[0].SnapshotId}; there is nothing to roll back to.");
        var row = await store.GetAsync(caller.WorkspaceId, previous, withLog: false, cancellationToken);
        if (row is null || row.Status != SnapshotStatus.Ready)
        {
            throw ApiProblem.Conflict("nothing_to_roll_back", $"{name}:{tag} pointed to {previous} before, which has been deleted.");
        }
        await store.MoveTagAsync(caller.WorkspaceId, name, tag, previous, "rollback", caller.UserId ?? caller.CredentialId, Now(), cancellationToken);
        return await HistoryAsync(caller, name, tag, cancellationToken);
    }

    public async Task<SnapshotTagHistory> HistoryAsync(Caller caller, string name, string tag, CancellationToken cancellationToken)
    {
        CheckTag(name, tag);
        var events = await store.TagEventsAsync(caller.WorkspaceId, name, tag, cancellationToken);
        var current = (await store.TagsAsync(caller.WorkspaceId, cancellationToken)).FirstOrDefault(t => t.Name == name && t.Tag == tag);
        if (current.SnapshotId is null)
        {
            throw ApiProblem.NotFound("tag", $"{name}:{tag}");
        }
        return new SnapshotTagHistory(name, tag, current.SnapshotId, [.. events.Select(e => new SnapshotTagEvent(
            e.Name, e.Tag, e.PreviousSnapshotId, e.SnapshotId, e.Reason, DateTimeOffset.FromUnixTimeMilliseconds(e.At)))]);
    }

    /// <summary>
    /// Deletes a finished build and its tags. Refused (409 <c>snapshot_in_use</c>) while a daemon of the workspace names
    /// it (through any of its names) or a live session runs on it. Its image goes once nothing else names it.
    /// </summary>
    public async Task DeleteAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var row = await store.GetAsync(caller.WorkspaceId, id, withLog: false, cancellationToken) ?? throw ApiProblem.NotFound("snapshot", id);
        if (row.Status == SnapshotStatus.Building)
        {
            throw ApiProblem.Conflict("snapshot_building", $"{id} is still building; delete it once it has ended.");
        }
        foreach (var daemon in await daemons.ListAsync(caller.WorkspaceId, cancellationToken))
        {
            var snapshot = JsonSerializer.Deserialize(daemon.Definition, DaemonJson.Default.StoredDaemonDefinition)!.Snapshot;
            if (SnapshotReference.TryParse(snapshot, out var reference) && (await store.ResolveAsync(caller.WorkspaceId, reference, cancellationToken))?.Id == id)
            {
                throw ApiProblem.Conflict("snapshot_in_use", $"The daemon '{daemon.Name}' runs on {snapshot}, which is {id}; point it elsewhere first.");
            }
        }
        if (row.Digest is { } digest && await store.InUseBySessionsAsync(caller.WorkspaceId, digest, cancellationToken))
        {
            throw ApiProblem.Conflict("snapshot_in_use", $"A live session runs on {id}; delete it once the session has ended.");
        }
        await store.DeleteAsync(caller.WorkspaceId, id, cancellationToken);
        if (row.Digest is { } image && !await store.ImageInUseAsync(image, cancellationToken))
        {
            File.Delete(options.ImagePath(image));
        }
    }

    private static void CheckTag(string name, string tag)
    {
        if (!SnapshotReference.IsName(name))
        {
            throw ApiProblem.Invalid("name", "name is 1-63 lower-case letters, digits, '.', '_' and '-'.");
        }
        if (!SnapshotReference.IsTag(tag))
        {
            throw ApiProblem.Invalid("tag", "tag is 1-128 letters, digits, '.', '_' and '-', not starting with '.' or '-'.");
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
