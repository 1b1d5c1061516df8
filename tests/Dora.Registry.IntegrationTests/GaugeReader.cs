using System.Diagnostics.Metrics;

namespace Dora.Registry.IntegrationTests;

/// <summary>Reads one observable gauge the way an exporter would.</summary>
internal sealed class GaugeReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value = -1;

    /// <summary>Reads <paramref name="instrument"/> of this <paramref name="meter"/> instance only: other instances of the
    /// same meter name (other tests' views, running at the same time) are not listened to.</summary>
    public GaugeReader(Meter meter, string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (ReferenceEquals(published.Meter, meter) && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, _, _) => _value = value);
        _listener.Start();
    }

    public long Read()
    {
        _listener.RecordObservableInstruments();
        return _value;
    }

    public void Dispose() => _listener.Dispose();
}
