using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kennel.Testing;

/// <summary>Every log entry a test server writes, for tests that assert what an operator would read in the log.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. entries];

    /// <summary>Adds this provider to a server's logging (pass it as <see cref="TestServer.StartAsync"/>'s <c>logging</c>).</summary>
    public void AddTo(ILoggingBuilder logging) => logging.AddProvider(this).SetMinimumLevel(LogLevel.Debug);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.entries.Enqueue(new LogEntry(logLevel, category, formatter(state, exception), exception));
    }
}

public sealed record LogEntry(LogLevel Level, string Category, string Message, Exception? Exception);
