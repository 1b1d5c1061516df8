using System.Text.Json;
using Apache.Arrow.Flight;
using Dora.Core.Paths;
using Dora.Core.Protocol;

namespace Dora.Flight;

/// <summary>The Flight actions a worker serves (docs/flight.md): JSON bodies in, JSON results out.</summary>
internal static class FlightActions
{
    public static IReadOnlyList<FlightActionType> All { get; } =
    [
        new("health", "The worker's health and cache state. Body: none. Result: {\"workerId\",\"status\",...}."),
        new("stat", "A file's status and cached bytes on this worker. Body: {\"path\":\"/p\"}. Result: {\"path\",\"length\",...}."),
    ];

    public static async Task<byte[]> RunAsync(FlightContext context, string type, byte[] body, CancellationToken cancellationToken)
    {
        switch (type)
        {
            case "health":
                var pages = context.Engine.Pages;
                return JsonSerializer.SerializeToUtf8Bytes(
                    new HealthReply(context.WorkerId, pages.UnavailableDirectories == 0 ? "ok" : "degraded", pages.UsedBytes, pages.CapacityBytes, pages.PageCount, pages.UnavailableDirectories, context.Engine.Metrics.StreamConnections),
                    ProtocolJson.Default.HealthReply);
            case "stat":
                using (var json = JsonDocument.Parse(body))
                {
                    string path = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("path", out JsonElement value) && value.ValueKind == JsonValueKind.String
                        ? value.GetString()!
                        : throw new TicketException("the stat action needs a body {\"path\":\"/...\"}");
                    DoraPath doraPath = DoraPath.Parse(path);
                    var info = await context.Engine.GetInfoAsync(doraPath, cancellationToken).ConfigureAwait(false);
                    var status = info.Status;
                    return JsonSerializer.SerializeToUtf8Bytes(
                        new StatReply(doraPath.Value, doraPath.Name, status.IsDirectory, status.Length, status.LastModified, status.ETag, info.CachedBytes),
                        ProtocolJson.Default.StatReply);
                }

            default:
                throw new TicketException($"unknown action '{type}'; supported: {string.Join(", ", All.Select(a => a.Type))}");
        }
    }
}
