using System.Text;
using RocksDbSharp;

namespace Dora.Worker.Metadata;

/// <summary>
/// Level 2: entries in RocksDB on local disk, surviving restarts. Entries older than the disk TTL are treated as
/// absent when read and deleted by <see cref="SweepExpired"/>.
/// </summary>
internal sealed class RocksMetadataStore : IDisposable
{
    private readonly RocksDb _db;
    private readonly long _ttlMs;

    public RocksMetadataStore(string directory, TimeSpan ttl)
    {
        Directory.CreateDirectory(directory);
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetKeepLogFileNum(2)
            .SetMaxOpenFiles(256);
        _db = RocksDb.Open(options, directory);
        _ttlMs = (long)ttl.TotalMilliseconds;
    }

    public bool TryGet(string key, long nowMs, out MetadataEntry entry)
    {
        var bytes = _db.Get(Encoding.UTF8.GetBytes(key));
        var decoded = bytes is null ? null : MetadataCodec.Decode(bytes);
        if (decoded is null || nowMs - decoded.StoredAtMs >= _ttlMs)
        {
            entry = null!;
            return false;
        }

        entry = decoded;
        return true;
    }

    public void Put(string key, MetadataEntry entry) => _db.Put(Encoding.UTF8.GetBytes(key), MetadataCodec.Encode(entry));

    /// <summary>
    /// Marks entries whose key starts with <paramref name="keyPrefix"/> and passes <paramref name="matches"/> as needing
    /// revalidation; deletes listings among them.
    /// </summary>
    public void Invalidate(string keyPrefix, Func<string, bool> matches)
    {
        using var batch = new WriteBatch();
        using (var iterator = _db.NewIterator())
        {
            var prefix = Encoding.UTF8.GetBytes(keyPrefix);
            for (iterator.Seek(prefix); iterator.Valid(); iterator.Next())
            {
                var keyBytes = iterator.Key();
                if (!keyBytes.AsSpan().StartsWith(prefix))
                {
                    break;
                }

                if (!matches(Encoding.UTF8.GetString(keyBytes)))
                {
                    continue;
                }

                var entry = MetadataCodec.Decode(iterator.Value());
                if (entry is null || entry.Kind == MetadataEntryKind.Listing)
                {
                    batch.Delete(keyBytes);
                }
                else
                {
                    batch.Put(keyBytes, MetadataCodec.Encode(entry.Invalidated()));
                }
            }
        }

        _db.Write(batch);
    }

    /// <summary>Deletes entries stored longer ago than the TTL, and entries this version cannot read.</summary>
    /// <returns>The number deleted.</returns>
    public int SweepExpired(long nowMs)
    {
        var deleted = 0;
        using var batch = new WriteBatch();
        using (var iterator = _db.NewIterator())
        {
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
            {
                var entry = MetadataCodec.Decode(iterator.Value());
                if (entry is null || nowMs - entry.StoredAtMs >= _ttlMs)
                {
                    batch.Delete(iterator.Key());
                    deleted++;
                }
            }
        }

        _db.Write(batch);
        return deleted;
    }

    public void Dispose() => _db.Dispose();
}
