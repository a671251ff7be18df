using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>One line of a test server's log.</summary>
public sealed record LogLine(LogLevel Level, string Category, string Message, Exception? Exception);

/// <summary>
/// A test server's log kept in memory, filtered as <c>kennel serve</c> filters it (Kennel's own lines at every level,
/// ASP.NET Core's and the MCP SDK's from Warning): for tests of what the log shows an operator, and of what it must not
/// (a stack trace for a client's bad input, a line per bad request that a flood could fill the disk with).
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> lines = new();

    public IReadOnlyList<LogLine> Lines => [.. lines];

    /// <summary>Where the log stands now, for <see cref="Since"/>.</summary>
    public int Mark() => lines.Count;

    /// <summary>
    /// The lines logged after <paramref name="mark"/> at <paramref name="level"/> or above, or with an exception at any
    /// level, one a line (empty when there are none).
    /// </summary>
    public string Since(int mark, LogLevel level) => string.Join('\n', Lines.Skip(mark)
        .Where(line => line.Level >= level || line.Exception is not null)
        .Select(line => $"{line.Level} {line.Category}: {line.Message} {line.Exception?.GetType().Name}"));

    /// <summary>For <see cref="TestServer.StartAsync"/>'s logging: sends every level the server's filters let through here.</summary>
    public void AddTo(ILoggingBuilder logging)
    {
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddProvider(this);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.lines.Enqueue(new LogLine(logLevel, category, formatter(state, exception), exception));
    }
}
