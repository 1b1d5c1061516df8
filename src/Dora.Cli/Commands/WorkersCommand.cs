using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Hashing;
using Dora.Core.Protocol;
using Dora.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Cli.Commands;

/// <summary><c>dora workers</c>: the cluster's members, their address, state, age and share of the key space.</summary>
internal static class WorkersCommand
{
    public static Command Create()
    {
        var command = new Command("workers", "list the cluster's workers: address, state, age, share of the key space");
        CliOptions.AddTo(command, CliOptions.Flag("--json", "machine-readable output"));
        RegistrySettings.AddOptions(command);
        RegistrySettings.AddPolicyOptions(command);
        TlsOptions.AddClientOptions(command);
        return command;
    }

    /// <summary>How long a worker's /healthz may take before it is reported unreachable.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        var json = reader.Flag("--json");
        var registrySettings = RegistrySettings.Read(reader);
        var view = RegistrySettings.ReadViewOptions(reader);
        var tls = TlsOptions.Read(reader, server: false).Client;

        await using var registry = registrySettings.Open(leaseTtl: null, NullLogger.Instance);
        var membership = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var ring = membership.ToRing(view.Policy, view.CapacityWeights);
        var shares = ring.KeyShares();
        var states = await ProbeAsync(membership.Workers, tls, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;

        if (json)
        {
            WriteJson(registry.Description, membership, view, shares, states, now);
        }
        else
        {
            WriteTable(registry.Description, membership, view, shares, states, now);
        }

        return 0;
    }

    /// <summary>What a worker's <c>/healthz</c> said: serving, degraded (with the reasons), unhealthy (with the status) or unreachable.</summary>
    private sealed record Probe(string State, IReadOnlyList<string> Reasons);

    /// <summary>Asks every worker's <c>/healthz</c> at once.</summary>
    private static async Task<Probe[]> ProbeAsync(IReadOnlyList<WorkerRecord> workers, Dora.Core.Security.ClientTls tls, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(tls.CreateHandler()) { Timeout = ProbeTimeout };
        var probes = new Task<Probe>[workers.Count];
        for (var i = 0; i < workers.Count; i++)
        {
            probes[i] = ProbeOneAsync(http, workers[i], cancellationToken);
        }

        return await Task.WhenAll(probes).ConfigureAwait(false);
    }

    private static async Task<Probe> ProbeOneAsync(HttpClient http, WorkerRecord worker, CancellationToken cancellationToken)
    {
        if (worker.HttpUri is not { } baseUri)
        {
            return new Probe("unknown", []);
        }

        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(baseUri), "healthz"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return new Probe($"unhealthy ({(int)response.StatusCode})", []);
            }

            var health = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), ProtocolJson.Default.HealthReply);
            return health is { Status: "degraded" } ? new Probe("degraded", health.Reasons ?? []) : new Probe("serving", []);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or JsonException)
        {
            return new Probe("unreachable", []);
        }
    }

    private static void WriteTable(string registry, Membership membership, ClusterViewOptions view, double[] shares, Probe[] states, DateTimeOffset now)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{membership.Workers.Count} workers in {registry}, revision {membership.Revision}, hash policy {view.Policy.Name}{(view.CapacityWeights ? " (weighted)" : string.Empty)}"));
        if (membership.Workers.Count == 0)
        {
            return;
        }

        Console.WriteLine($"{"ID",-24} {"ADDRESS",-28} {"STATE",-17} {"AGE",-10} {"SHARE",6}");
        for (var i = 0; i < membership.Workers.Count; i++)
        {
            var worker = membership.Workers[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{worker.Id,-24} {$"{worker.Host}:{worker.HttpPort}",-28} {states[i].State,-17} {FormatAge(now - worker.StartedAt),-10} {shares[i] * 100,5:0.0}%"));
        }

        for (var i = 0; i < membership.Workers.Count; i++)
        {
            var worker = membership.Workers[i];
            foreach (var reason in states[i].Reasons)
            {
                Console.WriteLine($"{worker.Id}: {reason}");
            }

            if (worker.Renewals > 0)
            {
                var since = worker.RegisteredAt is { } at ? $", the last {FormatAge(now - at)} ago" : string.Empty;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{worker.Id}: re-registered {worker.Renewals} time{(worker.Renewals == 1 ? string.Empty : "s")} after its lease was lost (the registry was unreachable longer than the lease){since}"));
            }
        }
    }

    private static void WriteJson(string registry, Membership membership, ClusterViewOptions view, double[] shares, Probe[] states, DateTimeOffset now)
    {
        JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("registry", registry);
            writer.WriteNumber("revision", membership.Revision);
            writer.WriteString("hashPolicy", view.Policy.Name);
            writer.WriteBoolean("weighted", view.CapacityWeights);
            writer.WriteStartArray("workers");
            for (var i = 0; i < membership.Workers.Count; i++)
            {
                var worker = membership.Workers[i];
                writer.WriteStartObject();
                worker.WriteFields(writer);
                writer.WriteString("state", states[i].State);
                writer.WriteStartArray("reasons");
                foreach (var reason in states[i].Reasons)
                {
                    writer.WriteStringValue(reason);
                }

                writer.WriteEndArray();
                writer.WriteNumber("ageSeconds", Math.Round((now - worker.StartedAt).TotalSeconds, 1));
                writer.WriteNumber("share", Math.Round(shares[i], 6));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private static string FormatAge(TimeSpan age) => age switch
    {
        { TotalSeconds: < 0 } => "0s",
        { TotalMinutes: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{age.Seconds}s"),
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{age.Minutes}m{age.Seconds:D2}s"),
        { TotalDays: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours}h{age.Minutes:D2}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d{age.Hours:D2}h"),
    };
}
