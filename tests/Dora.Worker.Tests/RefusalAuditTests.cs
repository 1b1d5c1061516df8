using Dora.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Worker.Tests;

public sealed class RefusalAuditTests
{
    private sealed class Lines : ILogger
    {
        public List<string> Written { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Written.Add($"{logLevel}: {formatter(state, exception)}");
    }

    [Fact]
    public void A_flood_of_refusals_writes_one_line_per_interval_counting_the_rest()
    {
        var time = new FakeTimeProvider();
        var lines = new Lines();
        var audit = new RefusalAudit(lines, "page stream", time);
        for (int i = 0; i < 1000; i++)
        {
            audit.Refused("10.0.0.9:5000", "a token that is not accepted");
        }

        Assert.Equal(["Warning: Refused page stream authentication from 10.0.0.9:5000: a token that is not accepted (0 more refused since the last such line)"], lines.Written);

        time.Advance(RefusalAudit.Interval);
        audit.Refused("10.0.0.7:5001", "no token");
        Assert.Equal(2, lines.Written.Count);
        Assert.Equal("Warning: Refused page stream authentication from 10.0.0.7:5001: no token (999 more refused since the last such line)", lines.Written[1]);
    }
}
