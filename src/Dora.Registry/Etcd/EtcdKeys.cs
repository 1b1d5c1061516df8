using System.Text;
using Google.Protobuf;

namespace Dora.Registry.Etcd;

/// <summary>The registry's etcd key layout (DESIGN.md): <c>/dora/&lt;cluster&gt;/workers/&lt;id&gt;</c>.</summary>
internal sealed class EtcdKeys
{
    public EtcdKeys(string cluster)
    {
        WorkersPrefixText = $"/dora/{cluster}/workers/";
        WorkersPrefix = ByteString.CopyFromUtf8(WorkersPrefixText);
        WorkersPrefixEnd = PrefixEnd(WorkersPrefix);
        Scheduler = ByteString.CopyFromUtf8($"/dora/{cluster}/scheduler");
    }

    public string WorkersPrefixText { get; }

    public ByteString WorkersPrefix { get; }

    /// <summary>The range end that selects every key under <see cref="WorkersPrefix"/>.</summary>
    public ByteString WorkersPrefixEnd { get; }

    public ByteString Scheduler { get; }

    public ByteString Worker(string id) => ByteString.CopyFromUtf8(WorkersPrefixText + id);

    /// <summary>The worker id a key names, or null when the key is not directly under the prefix.</summary>
    public string? WorkerIdOf(ByteString key)
    {
        string text = key.ToStringUtf8();
        if (!text.StartsWith(WorkersPrefixText, StringComparison.Ordinal))
        {
            return null;
        }

        string id = text[WorkersPrefixText.Length..];
        return WorkerRecord.IsValidId(id) ? id : null;
    }

    /// <summary>etcd's prefix range end: the prefix with its last byte incremented.</summary>
    private static ByteString PrefixEnd(ByteString prefix)
    {
        byte[] end = prefix.ToByteArray();
        end[^1]++;
        return ByteString.CopyFrom(end);
    }

    public static string Describe(ByteString key) => Encoding.UTF8.GetString(key.Span);
}
