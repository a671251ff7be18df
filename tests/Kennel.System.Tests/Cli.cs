using Kennel.Testing;

namespace Kennel.SystemTests;

/// <summary>What one <c>kennel</c> command did: its exit code and everything it printed.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real CLI as a user's shell would. Whatever a command does, its output must never carry a .NET stack trace,
/// so every run checks that.
/// </summary>
public static class Cli
{
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> env, params string[] args) => RunWithInputAsync(env, null, args);

    /// <summary>Runs a command with <paramref name="stdin"/> piped to it, as <c>echo … | kennel …</c> would.</summary>
    public static async Task<CliResult> RunWithInputAsync(IReadOnlyDictionary<string, string?> env, string? stdin, params string[] args)
    {
        var (exitCode, stdout, stderr) = await KennelProcess.RunWithInputAsync(env, stdin, args);
        var result = new CliResult(exitCode, stdout, stderr);
        ShouldHaveNoStackTrace(result, args);
        return result;
    }

    /// <summary>Runs a command that must succeed, failing the test with everything it printed if it does not.</summary>
    public static async Task<CliResult> SucceedAsync(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var result = await RunAsync(env, args);
        result.ExitCode.ShouldBe(0, $"kennel {string.Join(' ', args)}\n{result}");
        return result;
    }

    private static void ShouldHaveNoStackTrace(CliResult result, string[] args)
    {
        var output = result.Stdout + result.Stderr;
        output.ShouldNotContain("   at ", Case.Sensitive, $"kennel {string.Join(' ', args)} printed a stack trace\n{result}");
        output.ShouldNotContain("Unhandled exception", Case.Sensitive, $"kennel {string.Join(' ', args)} crashed\n{result}");
    }
}
