using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kennel.ControlPlane.Http;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kennel.ControlPlane.Snapshots.Recipes;

/// <summary>
/// Reads a recipe, in YAML or JSON, strictly: an unknown key, a wrong type or a value past its cap is refused with the
/// field at fault (<c>recipe.files[2].mode</c>), before anything is stored or built.
/// </summary>
public static partial class SnapshotRecipeParser
{
    public const int MaxRecipeBytes = 256 * 1024;
    public const int MaxPackages = 200;
    public const int MaxFiles = 64;
    public const int MaxFileBytes = 64 * 1024;
    public const int MaxRunSteps = 64;
    public const int MaxRunBytes = 16 * 1024;
    public const int MaxEnv = 64;
    public const int MaxEnvValueBytes = 4096;
    private const int MaxPathLength = 256;

    private static readonly string[] TopKeys = ["base", "packages", "files", "run", "env", "workdir"];
    private static readonly string[] BaseKeys = ["debootstrap", "snapshot", "oci", "ociArchive"];
    private static readonly string[] DebootstrapKeys = ["suite", "variant"];
    private static readonly string[] FileKeys = ["path", "content", "mode"];

    public static SnapshotRecipe Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid("recipe", "recipe is required: YAML or JSON text (see docs/snapshots.md).");
        }
        if (Encoding.UTF8.GetByteCount(text) > MaxRecipeBytes || text.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid("recipe", $"recipe must be at most {MaxRecipeBytes} bytes, without NUL characters.");
        }
        var root = Read(text) as JsonObject ?? throw Invalid("recipe", "recipe must be a mapping with at least a base.");
        Keys(root, "recipe", TopKeys);
        return new SnapshotRecipe
        {
            Base = Base(root["base"]),
            Packages = Packages(root["packages"]),
            Files = Files(root["files"]),
            Run = Run(root["run"]),
            Env = Env(root["env"]),
            Workdir = root["workdir"] is null ? null : AbsolutePath(Scalar(root["workdir"], "recipe.workdir"), "recipe.workdir"),
        };
    }

    /// <summary>JSON when it looks like JSON, else YAML; either way one tree of objects, arrays and strings.</summary>
    private static JsonNode? Read(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
                return FromJson(document.RootElement);
            }
            catch (JsonException e)
            {
                throw Invalid("recipe", $"recipe is not valid JSON: {e.Message}");
            }
        }
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 1 ? FromYaml(stream.Documents[0].RootNode, 0)
                : throw Invalid("recipe", "recipe must be one YAML document.");
        }
        catch (YamlException e)
        {
            throw Invalid("recipe", $"recipe is not valid YAML (line {e.Start.Line}): {e.Message}");
        }
    }

    // Built by hand rather than by JsonNode.Parse, which lets a key appear twice (the last wins): here that is refused.
    private static JsonNode? FromJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (!result.TryAdd(property.Name, FromJson(property.Value)))
                    {
                        throw Invalid("recipe", $"recipe has the key '{property.Name}' twice.");
                    }
                }
                return result;
            case JsonValueKind.Array:
                return new JsonArray([.. element.EnumerateArray().Select(FromJson)]);
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }

    private static JsonNode? FromYaml(YamlNode node, int depth)
    {
        if (depth > 16)
        {
            throw Invalid("recipe", "recipe is nested too deeply.");
        }
        // An alias shares its anchor's node, so a few of them nested would expand a small recipe a billionfold.
        if (!node.Anchor.IsEmpty)
        {
            throw Invalid("recipe", "recipe may not use YAML anchors or aliases.");
        }
        switch (node)
        {
            case YamlMappingNode mapping:
                var result = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    var name = (key as YamlScalarNode)?.Value ?? throw Invalid("recipe", "recipe keys must be plain strings.");
                    if (!result.TryAdd(name, FromYaml(value, depth + 1)))
                    {
                        throw Invalid("recipe", $"recipe has the key '{name}' twice.");
                    }
                }
                return result;
            case YamlSequenceNode sequence:
                return new JsonArray([.. sequence.Children.Select(child => FromYaml(child, depth + 1))]);
            case YamlScalarNode scalar:
                return scalar.Value is null || (scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null") ? null : JsonValue.Create(scalar.Value);
            default:
                throw Invalid("recipe", "recipe may not use YAML aliases.");
        }
    }

    private static RecipeBase Base(JsonNode? node)
    {
        var map = node as JsonObject ?? throw Invalid("recipe.base", "base is required: one of debootstrap, snapshot, oci or ociArchive.");
        Keys(map, "recipe.base", BaseKeys);
        if (map.Count != 1)
        {
            throw Invalid("recipe.base", "base takes exactly one of debootstrap, snapshot, oci or ociArchive.");
        }
        if (map["debootstrap"] is { } debootstrap)
        {
            var spec = debootstrap as JsonObject ?? throw Invalid("recipe.base.debootstrap", "debootstrap is a mapping: {suite, variant}.");
            Keys(spec, "recipe.base.debootstrap", DebootstrapKeys);
            var suite = Scalar(spec["suite"], "recipe.base.debootstrap.suite");
            if (!SuitePattern().IsMatch(suite))
            {
                throw Invalid("recipe.base.debootstrap.suite", "suite is a Debian or Ubuntu suite name such as bookworm (lower-case letters, digits and '-').");
            }
            var variant = spec["variant"] is null ? "minbase" : Scalar(spec["variant"], "recipe.base.debootstrap.variant");
            if (variant is not ("minbase" or "buildd"))
            {
                throw Invalid("recipe.base.debootstrap.variant", "variant is minbase or buildd.");
            }
            return new RecipeBase { Debootstrap = new DebootstrapBaseSpec(suite, variant) };
        }
        if (map["snapshot"] is { } snapshot)
        {
            var reference = Scalar(snapshot, "recipe.base.snapshot");
            return SnapshotReference.TryParse(reference, out _) ? new RecipeBase { Snapshot = reference }
                : throw Invalid("recipe.base.snapshot", "snapshot is name, name:tag or name@sha256:<64 hex digits>.");
        }
        if (map["oci"] is { } oci)
        {
            var reference = Scalar(oci, "recipe.base.oci");
            return reference.Length <= 512 && OciReferencePattern().IsMatch(reference) ? new RecipeBase { Oci = reference }
                : throw Invalid("recipe.base.oci", "oci is an image reference such as python:3.12-slim or registry/name@sha256:<digest>.");
        }
        var archive = Scalar(map["ociArchive"], "recipe.base.ociArchive");
        return archive.Length <= MaxPathLength && Path.IsPathFullyQualified(archive) && !archive.Contains("..", StringComparison.Ordinal)
            ? new RecipeBase { OciArchive = archive }
            : throw Invalid("recipe.base.ociArchive", "ociArchive is the absolute path of an OCI image archive on the control plane's host.");
    }

    private static List<string> Packages(JsonNode? node)
    {
        var items = List(node, "recipe.packages", MaxPackages);
        var packages = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            var name = Scalar(items[i], $"recipe.packages[{i}]");
            if (!PackagePattern().IsMatch(name))
            {
                throw Invalid($"recipe.packages[{i}]", "a package is a Debian package name (lower-case letters, digits, '+', '-', '.'), optionally =version.");
            }
            packages.Add(name);
        }
        return packages;
    }

    private static List<RecipeFile> Files(JsonNode? node)
    {
        var items = List(node, "recipe.files", MaxFiles);
        var files = new List<RecipeFile>();
        for (var i = 0; i < items.Count; i++)
        {
            var field = $"recipe.files[{i}]";
            var file = items[i] as JsonObject ?? throw Invalid(field, "a file is a mapping: {path, content, mode}.");
            Keys(file, field, FileKeys);
            var content = file["content"] is null ? "" : Scalar(file["content"], field + ".content", allowEmpty: true);
            if (Encoding.UTF8.GetByteCount(content) > MaxFileBytes)
            {
                throw Invalid(field + ".content", $"a file's content is at most {MaxFileBytes} bytes.");
            }
            var mode = file["mode"] is null ? "0644" : Scalar(file["mode"], field + ".mode");
            if (!ModePattern().IsMatch(mode))
            {
                throw Invalid(field + ".mode", "mode is an octal permission such as 0644 or 0755 (no set-id or sticky bits).");
            }
            files.Add(new RecipeFile(AbsolutePath(Scalar(file["path"], field + ".path"), field + ".path"), content, mode.PadLeft(4, '0')));
        }
        if (files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count() != files.Count)
        {
            throw Invalid("recipe.files", "each path may appear once.");
        }
        return files;
    }

    private static List<string> Run(JsonNode? node)
    {
        var items = List(node, "recipe.run", MaxRunSteps);
        var run = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            var command = Scalar(items[i], $"recipe.run[{i}]");
            if (Encoding.UTF8.GetByteCount(command) > MaxRunBytes)
            {
                throw Invalid($"recipe.run[{i}]", $"a run step is at most {MaxRunBytes} bytes.");
            }
            run.Add(command);
        }
        return run;
    }

    private static SortedDictionary<string, string> Env(JsonNode? node)
    {
        if (node is null)
        {
            return new SortedDictionary<string, string>(StringComparer.Ordinal);
        }
        var map = node as JsonObject ?? throw Invalid("recipe.env", "env is a mapping of names to values.");
        if (map.Count > MaxEnv)
        {
            throw Invalid("recipe.env", $"env has at most {MaxEnv} variables.");
        }
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            var field = $"recipe.env.{name}";
            if (!EnvNamePattern().IsMatch(name) || name.StartsWith("_KENNEL", StringComparison.Ordinal))
            {
                throw Invalid(field, "an env name is letters, digits and '_', not starting with a digit, and not _KENNEL….");
            }
            var text = value is null ? "" : Scalar(value, field, allowEmpty: true);
            if (Encoding.UTF8.GetByteCount(text) > MaxEnvValueBytes)
            {
                throw Invalid(field, $"an env value is at most {MaxEnvValueBytes} bytes.");
            }
            env[name] = text;
        }
        return env;
    }

    private static string AbsolutePath(string path, string field) =>
        path.Length <= MaxPathLength && path.StartsWith('/') && path.Split('/').All(part => part is not ("." or "..")) && !path.Contains("//", StringComparison.Ordinal)
            && path.All(c => !char.IsControl(c))
            ? path
            : throw Invalid(field, $"a path is absolute, at most {MaxPathLength} characters, without '.', '..' or empty parts.");

    private static List<JsonNode?> List(JsonNode? node, string field, int max)
    {
        if (node is null)
        {
            return [];
        }
        var array = node as JsonArray ?? throw Invalid(field, $"{field[7..]} is a list.");
        return array.Count <= max ? [.. array] : throw Invalid(field, $"{field[7..]} has at most {max} items.");
    }

    private static string Scalar(JsonNode? node, string field, bool allowEmpty = false)
    {
        if (node is not JsonValue value)
        {
            throw Invalid(field, $"{field} is required and must be a plain value.");
        }
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
            _ => throw Invalid(field, $"{field} must be a plain value."),
        };
        return allowEmpty || text.Length > 0 ? text : throw Invalid(field, $"{field} must not be empty.");
    }

    private static void Keys(JsonObject map, string field, string[] allowed)
    {
        foreach (var (key, _) in map)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                throw Invalid($"{field}.{key}", string.Create(CultureInfo.InvariantCulture, $"'{key}' is not a key of {field}; the keys are: {string.Join(", ", allowed)}."));
            }
        }
    }

    private static ApiProblem Invalid(string field, string message) => ApiProblem.Invalid(field, message);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    private static partial Regex SuitePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]{0,99}(=[A-Za-z0-9.+~:-]{1,64})?$")]
    private static partial Regex PackagePattern();

    [GeneratedRegex("^0?[0-7]{3}$")]
    private static partial Regex ModePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")]
    private static partial Regex OciReferencePattern();
}
