using System.Text.Json;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Flight.Protocol;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>The Flight actions a worker serves (docs/flight.md): JSON bodies in, JSON results out.</summary>
internal static class FlightActions
{
    /// <summary>Largest action body read, in bytes.</summary>
    private const int MaxBodyBytes = 64 << 10;

    public static IReadOnlyList<ActionType> All { get; } =
    [
        Describe("health", "The worker's health and cache state. Body: none. Result: {\"workerId\",\"status\",\"cacheUsedBytes\",...}."),
        Describe("stat", "A file's status and its bytes cached on this worker. Body: {\"path\"}. Result: {\"path\",\"length\",\"cachedBytes\",...}."),
        Describe("stats", "This worker's counters. Body: none. Result: {\"cacheHits\",\"cacheMisses\",...}."),
        Describe("load", "Reads a file or a byte range into this worker's cache. Body: {\"path\",\"offset\"?,\"length\"?}. Result: {\"path\",\"bytes\",\"fetchedPages\",\"cachedPages\"}."),
        Describe("invalidate", "Forgets what this worker cached about a path (recursive: and below it) and looks at it again. Body: {\"path\",\"recursive\"?}. Result: {\"path\",\"recursive\",\"exists\",\"version\",\"droppedPages\"}."),
        Describe("evict", "Drops a file's cached pages on this worker. Body: {\"path\"}. Result: {\"path\",\"droppedPages\"}."),
    ];

    private static ActionType Describe(string type, string description) => new() { Type = type, Description = description };

    public static async Task<byte[]> RunAsync(FlightContext context, string type, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (body.Length > MaxBodyBytes)
        {
            throw new TicketException($"the action body is {body.Length} bytes; the limit is {MaxBodyBytes}");
        }

        StorageEngine engine = context.Engine;
        switch (type)
        {
            case "health":
                return JsonSerializer.SerializeToUtf8Bytes(StatusReplies.Health(engine, context.WorkerId), ProtocolJson.Default.HealthReply);
            case "stats":
                var m = engine.Metrics;
                return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, long>
                {
                    ["cacheHits"] = m.CacheHits,
                    ["cacheMisses"] = m.CacheMisses,
                    ["cacheEvictions"] = m.Evictions,
                    ["cacheUsedBytes"] = engine.Pages.UsedBytes,
                    ["cacheCapacityBytes"] = engine.Pages.CapacityBytes,
                    ["cachePages"] = engine.Pages.PageCount,
                    ["ufsReadBytes"] = m.UfsBytesRead,
                    ["streamRequests"] = m.StreamRequests,
                });
            case "stat":
            {
                using JsonDocument json = Parse(body, type);
                var info = await engine.GetInfoAsync(PathOf(json, type), cancellationToken).ConfigureAwait(false);
                return JsonSerializer.SerializeToUtf8Bytes(StatusReplies.Stat(info), ProtocolJson.Default.StatReply);
            }

            case "load":
            {
                using JsonDocument json = Parse(body, type);
                DoraPath path = PathOf(json, type);
                (long offset, long? length) = RangeOf(json);
                LoadReply loaded = await engine.LoadAsync(path, offset, length, refresh: false, cancellationToken).ConfigureAwait(false);
                return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["path"] = path.Value, ["bytes"] = loaded.Length, ["fetchedPages"] = loaded.FetchedPages, ["cachedPages"] = loaded.CachedPages });
            }

            case "invalidate":
            {
                using JsonDocument json = Parse(body, type);
                DoraPath path = PathOf(json, type);
                bool recursive = json.RootElement.TryGetProperty("recursive", out JsonElement flag) && flag.ValueKind == JsonValueKind.True;
                InvalidateReply invalidated = await engine.InvalidateAsync(path, recursive, cancellationToken).ConfigureAwait(false);
                return JsonSerializer.SerializeToUtf8Bytes(invalidated, ProtocolJson.Default.InvalidateReply);
            }

            case "evict":
            {
                using JsonDocument json = Parse(body, type);
                DoraPath path = PathOf(json, type);
                EvictReply evicted = await engine.EvictAsync(path, cancellationToken).ConfigureAwait(false);
                return JsonSerializer.SerializeToUtf8Bytes(evicted, ProtocolJson.Default.EvictReply);
            }

            default:
                throw new TicketException($"unknown action '{type}'; supported: {string.Join(", ", All.Select(a => a.Type))}");
        }
    }

    private static DoraPath PathOf(JsonDocument json, string action) =>
        json.RootElement.TryGetProperty("path", out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? DoraPath.Parse(value.GetString()!)
            : throw new TicketException($"the {action} action needs a body with a \"path\" string");

    private static (long Offset, long? Length) RangeOf(JsonDocument json)
    {
        long offset = json.RootElement.TryGetProperty("offset", out JsonElement o) ? WholeNumber(o, "offset") : 0;
        long? length = json.RootElement.TryGetProperty("length", out JsonElement l) ? WholeNumber(l, "length") : null;
        return offset < 0 || length < 0 ? throw new TicketException("offset and length must not be negative") : (offset, length);
    }

    private static long WholeNumber(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number)
            ? number
            : throw new TicketException($"\"{name}\" must be a whole number");

    private static JsonDocument Parse(ReadOnlyMemory<byte> body, string action)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw new TicketException($"the {action} action's body is not valid UTF-8");
        }

        JsonDocument json = JsonDocument.Parse(body.Length == 0 ? "null"u8.ToArray() : body);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
        {
            json.Dispose();
            throw new TicketException($"the {action} action needs a JSON object body");
        }

        return json;
    }
}
