using Kennel.Contracts.Sessions;
using Kennel.Testing;

namespace Kennel.Tests.Sessions;

/// <summary><c>GET /v1/sessions</c>: newest first, cursor paging that sees every session once, and the status filter.</summary>
public sealed class SessionListTests(ServersWithoutWorkers servers) : IClassFixture<ServersWithoutWorkers>
{
    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task List_shows_the_newest_first(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await client.RunScriptAsync($"echo {i}")).Id);
        }

        var page = await client.ListSessionsAsync();

        page.Items.Select(s => s.Id).ShouldBe(Enumerable.Reverse(created));
        page.NextCursor.ShouldBeNull();
        page.Items[0].Script.ShouldBe("echo 4");
        page.Items.Select(s => s.CreatedAt).ShouldBeInOrder(SortDirection.Descending);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Paging_with_limit_and_cursor_covers_every_session_exactly_once(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((await client.RunScriptAsync($"echo {i}")).Id);
        }

        var pages = await client.ListAllPagesAsync(limit: 3);

        pages.Select(p => p.Items.Count).ShouldBe([3, 3, 1]);
        pages[^1].NextCursor.ShouldBeNull();
        pages.SelectMany(p => p.Items).Select(s => s.Id).ShouldBe(Enumerable.Reverse(created));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sessions_created_while_paging_neither_repeat_nor_shift_the_later_pages(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var older = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            older.Add((await client.RunScriptAsync("true")).Id);
        }

        var first = await client.ListSessionsAsync("limit=2");
        await client.RunScriptAsync("true");
        await client.RunScriptAsync("true");
        var second = await client.ListSessionsAsync($"limit=2&cursor={first.NextCursor}");

        first.Items.Select(s => s.Id).ShouldBe([older[3], older[2]]);
        second.Items.Select(s => s.Id).ShouldBe([older[1], older[0]]);
        second.NextCursor.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task An_exact_final_page_has_no_next_cursor(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        for (var i = 0; i < 4; i++)
        {
            await client.RunScriptAsync("true");
        }

        var pages = await client.ListAllPagesAsync(limit: 2);

        pages.Select(p => p.Items.Count).ShouldBe([2, 2]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Status_filter_returns_only_sessions_in_those_states(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();
        var pending = new List<string>();
        var cancelled = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var session = await client.RunScriptAsync("true");
            if (i % 2 == 0)
            {
                await client.CancelAsync(session.Id);
                cancelled.Add(session.Id);
            }
            else
            {
                pending.Add(session.Id);
            }
        }

        (await client.ListSessionsAsync("status=cancelled")).Items.Select(s => s.Id).ShouldBe(Enumerable.Reverse(cancelled));
        (await client.ListSessionsAsync("status=pending")).Items.Select(s => s.Id).ShouldBe(Enumerable.Reverse(pending));
        (await client.ListSessionsAsync("status=pending,cancelled")).Items.Count.ShouldBe(6);
        (await client.ListSessionsAsync("status=succeeded")).Items.ShouldBeEmpty();
        var filteredPages = await client.ListAllPagesAsync(limit: 2, status: "cancelled");
        filteredPages.SelectMany(p => p.Items).Select(s => s.Id).ShouldBe(Enumerable.Reverse(cancelled));
        filteredPages.SelectMany(p => p.Items).ShouldAllBe(s => s.Status == SessionStatus.Cancelled);
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task Sessions_created_concurrently_each_appear_once(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        var created = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => client.RunScriptAsync($"echo {i}")));

        var listed = (await client.ListAllPagesAsync(limit: 4)).SelectMany(p => p.Items).Select(s => s.Id).ToList();
        listed.ShouldBe(created.Select(s => s.Id).OrderByDescending(id => id, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestStore.Both), MemberType = typeof(TestStore))]
    public async Task A_new_workspace_lists_nothing(string store)
    {
        var server = await servers.GetAsync(store);
        using var client = await server.NewWorkspaceClientAsync();

        var page = await client.ListSessionsAsync();

        page.Items.ShouldBeEmpty();
        page.NextCursor.ShouldBeNull();
    }
}
