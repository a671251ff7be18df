using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// The fixtures exercise logging, sampling and the legacy titled enum on purpose: the 2025-11-25 scenarios call them.
#pragma warning disable MCP9001, MCP9005

namespace Kennel.Mcp.Tests.Conformance;

/// <summary>
/// The fixture tools, resources and prompts the MCP conformance suite's server scenarios call
/// (<c>conformance list --server</c>), served by the product's <see cref="McpEndpoints"/> on Kestrel at
/// <c>http://127.0.0.1:PORT/mcp</c>, and statelessly at <c>/stateless/mcp</c>, without authentication: every request
/// is the one owner "conformance".
/// </summary>
public sealed class FixturesServer : IAsyncDisposable
{
    // A 1×1 red PNG and a minimal WAV.
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    private const string Wav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

    private readonly WebApplication app;

    private FixturesServer(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>The MCP endpoint, <c>http://127.0.0.1:PORT/mcp</c>.</summary>
    public Uri Url { get; }

    /// <summary>The same fixtures served statelessly, <c>http://127.0.0.1:PORT/stateless/mcp</c>.</summary>
    public Uri StatelessUrl => new(Url, "/stateless/mcp");

    public static async Task<FixturesServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddCors();
        builder.Services.AddRouting();
        builder.Services.AddMcpEndpoints(new McpHttpOptions { RateLimitPerMinute = 0 });
        var app = builder.Build();
        app.UseRouting();
        app.UseCors();
        var endpoint = Endpoint();
        app.MapMcpEndpoint("/mcp", endpoint);
        app.MapMcpEndpoint("/stateless/mcp", endpoint with { Stateless = true });
        await app.StartAsync();
        var address = app.Urls.Single();
        return new FixturesServer(app, new Uri(new Uri(address), "/mcp"));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static McpEndpoint Endpoint()
    {
        var subscriptions = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        McpServerPrimitiveCollection<McpServerTool> tools = [.. Tools()];
        McpServerPrimitiveCollection<McpServerPrompt> prompts = [.. Prompts()];
        McpServerResourceCollection resources = [.. Resources()];
        return new McpEndpoint
        {
            OwnerOf = _ => "conformance",
            Tools = () => tools,
            ConfigureServer = server =>
            {
                server.ServerInfo = new Implementation { Name = "kennel-conformance-fixtures", Version = "1.0.0" };
                server.Capabilities = new ServerCapabilities
                {
                    Logging = new LoggingCapability(),
                    Completions = new CompletionsCapability(),
                    Resources = new ResourcesCapability { Subscribe = true, ListChanged = false },
                };
                server.PromptCollection = prompts;
                server.ResourceCollection = resources;
                server.Handlers = new McpServerHandlers
                {
                    CompleteHandler = (_, _) => ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = [], Total = 0, HasMore = false } }),
                    SubscribeToResourcesHandler = (request, cancellationToken) =>
                    {
                        subscriptions[request.Params!.Uri] = 0;
                        return ValueTask.FromResult(new EmptyResult());
                    },
                    UnsubscribeFromResourcesHandler = (request, cancellationToken) =>
                    {
                        subscriptions.TryRemove(request.Params!.Uri, out _);
                        return ValueTask.FromResult(new EmptyResult());
                    },
                };
            },
        };
    }

    private static IEnumerable<McpServerTool> Tools()
    {
        yield return Tool("test_simple_text", () => "This is a simple text response for testing.");
        yield return Tool("test_image_content", () => ImageContentBlock.FromBytes(Convert.FromBase64String(Png), "image/png"));
        yield return Tool("test_audio_content", () => AudioContentBlock.FromBytes(Convert.FromBase64String(Wav), "audio/wav"));
        yield return Tool("test_embedded_resource", () => new EmbeddedResourceBlock
        {
            Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." },
        });
        yield return Tool("test_multiple_content_types", () => new ContentBlock[]
        {
            new TextContentBlock { Text = "Multiple content types test:" },
            ImageContentBlock.FromBytes(Convert.FromBase64String(Png), "image/png"),
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents { Uri = "test://mixed-content-resource", MimeType = "application/json", Text = """{"test":"data","value":123}""" },
            },
        });
        // SEP-1699: ends the POST's SSE stream before answering; the answer waits in the session's event store for
        // the client's GET with Last-Event-ID.
        yield return Tool("test_reconnection", async (RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken) =>
        {
            await context.EnablePollingAsync(TimeSpan.FromMilliseconds(500), cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            return "Reconnection test completed successfully";
        }, "Closes the SSE stream mid-call to test client reconnection");
        yield return Tool("test_tool_with_logging", async (McpServer server, CancellationToken cancellationToken) =>
        {
            string[] messages = ["Tool execution started", "Tool processing data", "Tool execution completed"];
            for (var i = 0; i < messages.Length; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(50, cancellationToken);
                }
                await server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification, new LoggingMessageNotificationParams
                {
                    Level = LoggingLevel.Info,
                    Logger = "conformance",
                    Data = JsonSerializer.SerializeToElement(messages[i], McpJsonUtilities.DefaultOptions),
                }, cancellationToken: cancellationToken);
            }
            return "Tool with logging executed successfully";
        });
        yield return Tool("test_tool_with_progress", async (McpServer server, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken) =>
        {
            var token = context.Params?.ProgressToken;
            foreach (var progress in new[] { 0, 50, 100 })
            {
                if (progress > 0)
                {
                    await Task.Delay(50, cancellationToken);
                }
                if (token is { } progressToken)
                {
                    await server.NotifyProgressAsync(progressToken, new ProgressNotificationValue { Progress = progress, Total = 100 }, cancellationToken: cancellationToken);
                }
            }
            return "Tool with progress executed successfully";
        });
        yield return Tool("test_error_handling", () => new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
        });
        yield return Tool("test_sampling", async (McpServer server, string prompt, CancellationToken cancellationToken) =>
        {
            var result = await server.SampleAsync(new CreateMessageRequestParams
            {
                Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                MaxTokens = 100,
            }, cancellationToken);
            return $"LLM response: {result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text}";
        });
        yield return Tool("test_elicitation", async (McpServer server, string message, CancellationToken cancellationToken) =>
        {
            var result = await server.ElicitAsync(new ElicitRequestParams
            {
                Message = message,
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["username"] = new ElicitRequestParams.StringSchema { Description = "User's response" },
                        ["email"] = new ElicitRequestParams.StringSchema { Description = "User's email address" },
                    },
                    Required = ["username", "email"],
                },
            }, cancellationToken);
            return $"User response: action={result.Action}, content={Json(result.Content)}";
        });
        yield return Tool("test_elicitation_sep1034_defaults", async (McpServer server, CancellationToken cancellationToken) =>
        {
            var result = await server.ElicitAsync(new ElicitRequestParams
            {
                Message = "Test elicitation with default values for primitive types",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["name"] = new ElicitRequestParams.StringSchema { Description = "User name", Default = "John Doe" },
                        ["age"] = new ElicitRequestParams.NumberSchema { Type = "integer", Description = "User age", Default = 30 },
                        ["score"] = new ElicitRequestParams.NumberSchema { Description = "User score", Default = 95.5 },
                        ["status"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema
                        {
                            Description = "User status",
                            Enum = ["active", "inactive", "pending"],
                            Default = "active",
                        },
                        ["verified"] = new ElicitRequestParams.BooleanSchema { Description = "Verification status", Default = true },
                    },
                },
            }, cancellationToken);
            return $"Elicitation completed: action={result.Action}, content={Json(result.Content)}";
        });
        yield return Tool("test_elicitation_sep1330_enums", async (McpServer server, CancellationToken cancellationToken) =>
        {
            var result = await server.ElicitAsync(new ElicitRequestParams
            {
                Message = "Test elicitation with enum schema variants",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["untitledSingle"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema { Enum = ["option1", "option2", "option3"] },
                        ["titledSingle"] = new ElicitRequestParams.TitledSingleSelectEnumSchema
                        {
                            OneOf =
                            [
                                new ElicitRequestParams.EnumSchemaOption { Const = "value1", Title = "First Option" },
                                new ElicitRequestParams.EnumSchemaOption { Const = "value2", Title = "Second Option" },
                                new ElicitRequestParams.EnumSchemaOption { Const = "value3", Title = "Third Option" },
                            ],
                        },
                        ["legacyEnum"] = new ElicitRequestParams.LegacyTitledEnumSchema
                        {
                            Enum = ["opt1", "opt2", "opt3"],
                            EnumNames = ["Option One", "Option Two", "Option Three"],
                        },
                        ["untitledMulti"] = new ElicitRequestParams.UntitledMultiSelectEnumSchema
                        {
                            Items = new ElicitRequestParams.UntitledEnumItemsSchema { Enum = ["option1", "option2", "option3"] },
                        },
                        ["titledMulti"] = new ElicitRequestParams.TitledMultiSelectEnumSchema
                        {
                            Items = new ElicitRequestParams.TitledEnumItemsSchema
                            {
                                AnyOf =
                                [
                                    new ElicitRequestParams.EnumSchemaOption { Const = "value1", Title = "First Choice" },
                                    new ElicitRequestParams.EnumSchemaOption { Const = "value2", Title = "Second Choice" },
                                    new ElicitRequestParams.EnumSchemaOption { Const = "value3", Title = "Third Choice" },
                                ],
                            },
                        },
                    },
                },
            }, cancellationToken);
            return $"Elicitation completed: action={result.Action}, content={Json(result.Content)}";
        });
        var schemaTool = Tool("json_schema_2020_12_tool", () => "ok", "Tool with JSON Schema 2020-12 features");
        schemaTool.ProtocolTool.InputSchema = JsonDocument.Parse("""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "$defs": { "address": { "type": "object", "properties": { "street": { "type": "string" }, "city": { "type": "string" } } } },
              "properties": { "name": { "type": "string" }, "address": { "$ref": "#/$defs/address" } },
              "additionalProperties": false
            }
            """).RootElement.Clone();
        yield return schemaTool;
    }

    private static IEnumerable<McpServerResource> Resources()
    {
        yield return Resource("test://static-text", "Static text", "text/plain",
            uri => new TextResourceContents { Uri = uri, MimeType = "text/plain", Text = "This is the content of the static text resource." });
        yield return Resource("test://static-binary", "Static binary", "image/png",
            uri => BlobResourceContents.FromBytes(Convert.FromBase64String(Png), uri, "image/png"));
        yield return Resource("test://watched-resource", "Watched resource", "text/plain",
            uri => new TextResourceContents { Uri = uri, MimeType = "text/plain", Text = "Watched resource content." });
        yield return McpServerResource.Create(
            (RequestContext<ReadResourceRequestParams> context, string id) => new TextResourceContents
            {
                Uri = context.Params!.Uri,
                MimeType = "application/json",
                Text = JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["templateTest"] = true, ["data"] = $"Data for ID: {id}" }),
            },
            new McpServerResourceCreateOptions { UriTemplate = "test://template/{id}/data", Name = "Template", Description = "A resource template", MimeType = "application/json" });
    }

    private static IEnumerable<McpServerPrompt> Prompts()
    {
        yield return McpServerPrompt.Create(
            () => Result(User(new TextContentBlock { Text = "This is a simple prompt for testing." })),
            new McpServerPromptCreateOptions { Name = "test_simple_prompt", Description = "A prompt without arguments" });
        yield return McpServerPrompt.Create(
            (string arg1, string arg2) => Result(User(new TextContentBlock { Text = $"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'" })),
            new McpServerPromptCreateOptions { Name = "test_prompt_with_arguments", Description = "A prompt with two arguments" });
        yield return McpServerPrompt.Create(
            (string resourceUri) => Result(
                User(new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = resourceUri, MimeType = "text/plain", Text = "Embedded resource content for testing." } }),
                User(new TextContentBlock { Text = "Please process the embedded resource above." })),
            new McpServerPromptCreateOptions { Name = "test_prompt_with_embedded_resource", Description = "A prompt embedding a resource" });
        yield return McpServerPrompt.Create(
            () => Result(
                User(ImageContentBlock.FromBytes(Convert.FromBase64String(Png), "image/png")),
                User(new TextContentBlock { Text = "Please analyze the image above." })),
            new McpServerPromptCreateOptions { Name = "test_prompt_with_image", Description = "A prompt with an image" });
    }

    private static McpServerTool Tool(string name, Delegate method, string? description = null) =>
        McpServerTool.Create(method, new McpServerToolCreateOptions { Name = name, Description = description ?? $"Conformance fixture {name}" });

    private static McpServerResource Resource(string uri, string name, string mimeType, Func<string, ResourceContents> read) =>
        McpServerResource.Create(() => read(uri), new McpServerResourceCreateOptions { UriTemplate = uri, Name = name, Description = name, MimeType = mimeType });

    private static GetPromptResult Result(params PromptMessage[] messages) => new() { Messages = [.. messages] };

    private static PromptMessage User(ContentBlock content) => new() { Role = Role.User, Content = content };

    private static string Json(IDictionary<string, JsonElement>? content) =>
        content is null ? "null" : JsonSerializer.Serialize(content, McpJsonUtilities.DefaultOptions);
}
