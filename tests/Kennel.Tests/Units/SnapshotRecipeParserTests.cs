using Kennel.ControlPlane.Http;
using Kennel.ControlPlane.Snapshots;
using Kennel.ControlPlane.Snapshots.Recipes;

namespace Kennel.Tests.Units;

public sealed class SnapshotRecipeParserTests
{
    [Fact]
    public void A_yaml_recipe_and_its_json_twin_read_the_same()
    {
        var yaml = SnapshotRecipeParser.Parse("""
            base:
              debootstrap: {suite: bookworm}
            packages: [python3, python3-pytest]
            files:
              - path: /etc/app.conf
                content: "a=1\n"
                mode: "0600"
            run:
              - pip --version
            env: {B: "2", A: "1"}
            workdir: /srv/app
            """);
        var json = SnapshotRecipeParser.Parse("""
            {"base": {"debootstrap": {"suite": "bookworm", "variant": "minbase"}}, "packages": ["python3", "python3-pytest"],
             "files": [{"path": "/etc/app.conf", "content": "a=1\n", "mode": "600"}], "run": ["pip --version"], "env": {"A": "1", "B": "2"},
             "workdir": "/srv/app"}
            """);

        yaml.Base.Describe().ShouldBe("debootstrap:bookworm/minbase");
        yaml.Packages.ShouldBe(json.Packages);
        yaml.Files.ShouldBe(json.Files);
        yaml.Files[0].Mode.ShouldBe("0600");
        yaml.Run.ShouldBe(json.Run);
        yaml.Env.ShouldBe(json.Env);
        yaml.Workdir.ShouldBe("/srv/app");
    }

    [Theory]
    [InlineData("base: {debootstrap: {suite: bookworm}}\nimage: x\n", "recipe.image")]
    [InlineData("base: {debootstrap: {suite: bookworm, mirror: http://evil}}\n", "recipe.base.debootstrap.mirror")]
    [InlineData("packages: [python3]\n", "recipe.base")]
    [InlineData("base: {debootstrap: {suite: bookworm}, snapshot: python}\n", "recipe.base")]
    [InlineData("base: {debootstrap: {suite: ../../etc}}\n", "recipe.base.debootstrap.suite")]
    [InlineData("base: {debootstrap: {suite: bookworm, variant: fakechroot}}\n", "recipe.base.debootstrap.variant")]
    [InlineData("base: {snapshot: python}\npackages: ['python3; rm -rf /']\n", "recipe.packages[0]")]
    [InlineData("base: {snapshot: python}\nfiles: [{path: etc/x, content: y}]\n", "recipe.files[0].path")]
    [InlineData("base: {snapshot: python}\nfiles: [{path: /etc/../x, content: y}]\n", "recipe.files[0].path")]
    [InlineData("base: {snapshot: python}\nfiles: [{path: /x, content: y, mode: '4755'}]\n", "recipe.files[0].mode")]
    [InlineData("base: {snapshot: python}\nenv: {_KENNEL_ARG0: x}\n", "recipe.env._KENNEL_ARG0")]
    [InlineData("base: {snapshot: python}\nworkdir: relative\n", "recipe.workdir")]
    [InlineData("base: {snapshot: python}\nrun: [[nested]]\n", "recipe.run[0]")]
    [InlineData("base: &a {snapshot: python}\nother: *a\n", "recipe")]
    [InlineData("{\"base\": {\"snapshot\": \"python\"}, \"base\": {\"snapshot\": \"other\"}}", "recipe")]
    public void A_recipe_is_refused_with_the_field_at_fault(string recipe, string field)
    {
        var problem = Should.Throw<ApiProblem>(() => SnapshotRecipeParser.Parse(recipe));

        problem.Field.ShouldBe(field, problem.Detail);
    }

    [Fact]
    public void Sizes_are_capped()
    {
        var run = string.Join('\n', Enumerable.Range(0, SnapshotRecipeParser.MaxRunSteps + 1).Select(i => $"  - echo {i}"));
        Should.Throw<ApiProblem>(() => SnapshotRecipeParser.Parse($"base: {{snapshot: python}}\nrun:\n{run}\n")).Field.ShouldBe("recipe.run");
        var big = new string('x', SnapshotRecipeParser.MaxFileBytes + 1);
        Should.Throw<ApiProblem>(() => SnapshotRecipeParser.Parse($"base: {{snapshot: python}}\nfiles: [{{path: /x, content: {big}}}]\n"))
            .Field.ShouldBe("recipe.files[0].content");
        Should.Throw<ApiProblem>(() => SnapshotRecipeParser.Parse(new string('#', SnapshotRecipeParser.MaxRecipeBytes + 1))).Field.ShouldBe("recipe");
    }

    [Theory]
    [InlineData("python", "python", "latest", null)]
    [InlineData("python:3.12", "python", "3.12", null)]
    [InlineData("python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "python", null,
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_reference_names_a_tag_or_a_digest(string text, string name, string? tag, string? digest)
    {
        SnapshotReference.TryParse(text, out var reference).ShouldBeTrue();
        reference.ShouldBe(new SnapshotReference(name, tag, digest));
    }

    [Theory]
    [InlineData("Python")]
    [InlineData("python:")]
    [InlineData("python@sha256:abc")]
    [InlineData("../python")]
    [InlineData("python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_malformed_reference_is_refused(string text) => SnapshotReference.TryParse(text, out _).ShouldBeFalse();
}
