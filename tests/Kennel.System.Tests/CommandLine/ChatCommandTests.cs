using Kennel.Testing;

namespace Kennel.SystemTests.CommandLine;

/// <summary><c>kennel chat</c> and <c>kennel conversation</c> against <c>kennel serve</c> with an OpenAI-compatible OPENAI_BASE_URL.</summary>
public sealed class ChatCommandTests
{
    [Fact]
    public async Task Chat_streams_the_answer_and_the_conversation_verbs_manage_it()
    {
        await using var model = await ScriptedProvider.StartAsync();
        model.ThenEvents(ModelScript.Exec("call_1", "echo from-the-sandbox")).ThenEvents(ModelScript.Answer("Hello from Kennel."));
        await using var serve = await ServeProcess.StartAsync(TestStore.Sqlite, new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = new Uri(model.Url, "v1").ToString(),
        });

        var chat = await serve.CliSucceedsAsync("chat", "say hello");
        chat.Stdout.ShouldBe("Hello from Kennel.\n");
        chat.Stderr.ShouldContain("[exec …]");
        chat.Stderr.ShouldContain("[exec done]");

        var list = await serve.CliSucceedsAsync("conversation", "list");
        list.Stdout.ShouldContain("main");
        var id = list.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).First(word => word.StartsWith("cnv_", StringComparison.Ordinal));
        var history = await serve.CliSucceedsAsync("conversation", "history", id);
        history.Stdout.ShouldContain("#1 user: say hello");
        history.Stdout.ShouldContain("#2 tool_call: exec");
        history.Stdout.ShouldContain("from-the-sandbox");
        history.Stdout.ShouldContain("#4 assistant: Hello from Kennel.");
        (await serve.CliSucceedsAsync("conversation", "rename", id, "greetings")).Stdout.ShouldContain("greetings");
        (await serve.CliSucceedsAsync("conversation", "show", id)).Stdout.ShouldContain("\"label\":\"greetings\"");
        (await serve.CliSucceedsAsync("conversation", "delete", id, "--transcript")).Stdout.ShouldContain("Deleted");
        (await serve.CliAsync("conversation", "show", id)).ExitCode.ShouldNotBe(0);
    }

    [Fact]
    public async Task Chat_without_a_provider_says_how_to_configure_one()
    {
        await using var serve = await ServeProcess.StartAsync();

        var chat = await serve.CliAsync("chat", "hello");

        chat.ExitCode.ShouldNotBe(0);
        chat.Stderr.ShouldContain("OPENAI_BASE_URL");
    }

    [Fact]
    public async Task Chat_and_conversation_have_help()
    {
        await using var serve = await ServeProcess.StartAsync();
        (await serve.CliSucceedsAsync("chat", "--help")).Stdout.ShouldContain("--conversation");
        (await serve.CliSucceedsAsync("conversation", "--help")).Stdout.ShouldContain("history");
    }
}
