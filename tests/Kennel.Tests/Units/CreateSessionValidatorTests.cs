using Kennel.Contracts.Sessions;
using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Sessions;
using Kennel.ControlPlane.Snapshots;

namespace Kennel.Tests.Units;

public sealed class CreateSessionValidatorTests
{
    private static readonly SnapshotCatalog Snapshots = new(null!);

    [Fact]
    public void A_bare_script_gets_every_default()
    {
        var valid = CreateSessionValidator.Validate(new CreateSessionRequest { Script = "echo hi" }, Snapshots);

        valid.Snapshot.ShouldBe("test-minimal");
        valid.TimeoutMs.ShouldBe(600_000);
        valid.Vcpus.ShouldBe(1);
        valid.MemoryMb.ShouldBe(512);
        valid.Spec.NetworkMode.ShouldBe("none");
        valid.Spec.Env.ShouldBeEmpty();
        valid.Spec.Metadata.ShouldBeEmpty();
        valid.Spec.Argv().ShouldBe(["/bin/sh", "-c", "echo hi"]);
    }

    [Fact]
    public void A_command_runs_as_given()
    {
        var valid = CreateSessionValidator.Validate(new CreateSessionRequest { Command = ["printf", "%s", "a b"] }, Snapshots);

        valid.Spec.Argv().ShouldBe(["printf", "%s", "a b"]);
        valid.Spec.Script.ShouldBeNull();
    }

    [Fact]
    public void Explicit_values_at_the_bounds_are_kept()
    {
        var valid = CreateSessionValidator.Validate(new CreateSessionRequest
        {
            Snapshot = "test-minimal",
            Script = "true",
            TimeoutMs = 1000,
            Resources = new SessionResources { Vcpus = 64, MemoryMb = 16 },
            Network = new SessionNetwork { Mode = "none" },
            Env = new Dictionary<string, string> { ["_A1"] = "" },
        }, Snapshots);

        valid.TimeoutMs.ShouldBe(1000);
        valid.Vcpus.ShouldBe(64);
        valid.MemoryMb.ShouldBe(16);
        valid.Spec.Env.ShouldBe(new Dictionary<string, string> { ["_A1"] = "" });
    }

    [Theory]
    [InlineData("1BAD")]
    [InlineData("A B")]
    [InlineData("")]
    [InlineData("É")]
    [InlineData("_KENNEL_ARGC")]
    [InlineData("_KENNEL_ARG0")]
    public void A_bad_env_name_is_refused_naming_it(string name)
    {
        var problem = Should.Throw<ApiProblem>(() => CreateSessionValidator.Validate(
            new CreateSessionRequest { Script = "true", Env = new Dictionary<string, string> { [name] = "x" } }, Snapshots));

        problem.Status.ShouldBe(400);
        problem.Field.ShouldBe($"env.{name}");
    }

    [Fact]
    public void Too_many_env_variables_are_refused()
    {
        var env = Enumerable.Range(0, 257).ToDictionary(i => $"V{i}", _ => "x");

        Should.Throw<ApiProblem>(() => CreateSessionValidator.Validate(new CreateSessionRequest { Script = "true", Env = env }, Snapshots))
            .Field.ShouldBe("env");
    }

    [Fact]
    public void A_script_over_256_kib_is_refused()
    {
        Should.Throw<ApiProblem>(() => CreateSessionValidator.Validate(new CreateSessionRequest { Script = new string('x', 256 * 1024 + 1) }, Snapshots))
            .Field.ShouldBe("script");
    }
}
