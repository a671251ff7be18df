using Kennel.ControlPlane.Config;

namespace Kennel.Tests.Units;

public sealed class ConfigPathTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("agents.main.thinking", "agents.main.thinking")]
    [InlineData("agents.main.tools[2]", "agents.main.tools[2]")]
    [InlineData("models.openai/gpt-5-mini.prices", "models.openai/gpt-5-mini.prices")]
    [InlineData("""models["openai/gpt-4.1"].prices.input""", """models["openai/gpt-4.1"].prices.input""")]
    [InlineData("""agents["main"]""", "agents.main")]
    [InlineData("""a["x]y"].b""", """a["x]y"].b""")]
    public void Parses_and_writes_back_the_same_path(string text, string formatted)
    {
        ConfigPath.TryParse(text, out var path, out var error).ShouldBeTrue(error);
        path.ToString().ShouldBe(formatted);
    }

    [Theory]
    [InlineData("agents..main")]
    [InlineData("agents.")]
    [InlineData(".agents")]
    [InlineData("agents[")]
    [InlineData("agents[x]")]
    [InlineData("agents[\"\"]")]
    [InlineData("agents main")]
    [InlineData("agents[\"main\"]x")]
    public void Refuses_a_malformed_path_saying_why(string text)
    {
        ConfigPath.TryParse(text, out _, out var error).ShouldBeFalse();
        error.ShouldNotBeNullOrWhiteSpace();
    }
}
