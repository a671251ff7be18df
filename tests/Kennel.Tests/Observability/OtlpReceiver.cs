using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Kennel.Tests.Observability;

/// <summary>One span as an OTLP collector receives it.</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A collector's OTLP/HTTP traces endpoint on loopback (<c>POST /v1/traces</c>, protobuf): it decodes the spans it is
/// sent (the few fields a test looks at, read straight off the protobuf wire format) and keeps them.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();

    private OtlpReceiver(WebApplication app) => this.app = app;

    public Uri Url => new(app.Urls.First());

    public IReadOnlyList<ReceivedSpan> Spans => [.. spans];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (context.Request.Path != "/v1/traces" || context.Request.ContentType != "application/x-protobuf")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            receiver.Receive(body.ToArray());
            context.Response.ContentType = "application/x-protobuf"; // an empty ExportTraceServiceResponse
        });
        await app.StartAsync();
        return receiver;
    }

    // ExportTraceServiceRequest: 1 resource_spans { 2 scope_spans { 2 spans } }.
    private void Receive(byte[] request)
    {
        foreach (var resourceSpans in Protobuf.Messages(request, 1))
        {
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                foreach (var span in Protobuf.Messages(scopeSpans, 2))
                {
                    spans.Enqueue(Decode(span));
                }
            }
        }
    }

    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes (KeyValue: 1 key, 2 AnyValue: 1 string_value).
    private static ReceivedSpan Decode(ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in Protobuf.Fields(span))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 4: parent = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 5: name = Encoding.UTF8.GetString(field.Bytes.Span); break;
                case 6: kind = (int)field.Varint; break;
                case 9:
                    var key = Protobuf.Messages(field.Bytes, 1).Select(k => Encoding.UTF8.GetString(k.Span)).FirstOrDefault();
                    var text = Protobuf.Messages(field.Bytes, 2).SelectMany(v => Protobuf.Messages(v, 1)).Select(v => Encoding.UTF8.GetString(v.Span)).FirstOrDefault();
                    if (key is not null && text is not null)
                    {
                        attributes[key] = text;
                    }
                    break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, kind, attributes);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>The protobuf wire format, read only: varints and length-delimited fields (fixed-width ones are skipped).</summary>
    private static class Protobuf
    {
        public readonly record struct Field(int Number, ulong Varint, ReadOnlyMemory<byte> Bytes);

        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int number) =>
            Fields(message).Where(f => f.Number == number).Select(f => f.Bytes);

        public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
        {
            var position = 0;
            while (position < message.Length)
            {
                var tag = ReadVarint(message.Span, ref position);
                var number = (int)(tag >> 3);
                switch (tag & 7)
                {
                    case 0:
                        yield return new Field(number, ReadVarint(message.Span, ref position), default);
                        break;
                    case 1:
                        position += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(message.Span, ref position);
                        yield return new Field(number, 0, message.Slice(position, length));
                        position += length;
                        break;
                    case 5:
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Wire type {tag & 7} at {position}.");
                }
            }
        }

        private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
