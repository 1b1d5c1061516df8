using System.Text;
using RocksDbSharp;

namespace Dora.Scheduler.Jobs;

/// <summary>
/// The scheduler's persistent state in RocksDB (its directory): each job's document under <c>job/&lt;id&gt;</c>, and a
/// marker per finished task under <c>task/&lt;id&gt;/&lt;path&gt;\0&lt;offset&gt;</c>, so that a job resumed after a
/// restart skips every task it finished before.
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly RocksDb _db;
    private readonly WriteOptions _write = new WriteOptions().SetSync(false);

    public JobStore(string directory)
    {
        Directory.CreateDirectory(directory);
        var options = new DbOptions().SetCreateIfMissing(true).SetKeepLogFileNum(2).SetMaxOpenFiles(128);
        _db = RocksDb.Open(options, directory);
    }

    public void Save(JobDocument job)
    {
        ArgumentNullException.ThrowIfNull(job);
        _db.Put(JobKey(job.Id), job.ToJson(), writeOptions: _write);
    }

    /// <summary>Every stored job (documents this version cannot read are skipped).</summary>
    public List<JobDocument> LoadAll()
    {
        var jobs = new List<JobDocument>();
        byte[] prefix = "job/"u8.ToArray();
        using Iterator iterator = _db.NewIterator();
        for (iterator.Seek(prefix); iterator.Valid() && iterator.Key().AsSpan().StartsWith(prefix); iterator.Next())
        {
            try
            {
                if (JobDocument.FromJson(iterator.Value()) is { } job)
                {
                    jobs.Add(job);
                }
            }
            catch (System.Text.Json.JsonException)
            {
                // Written by another version: left alone.
            }
        }

        return jobs;
    }

    public void MarkTaskDone(string jobId, string path, long offset, long length) =>
        _db.Put(TaskKey(jobId, path, offset), BitConverter.GetBytes(length), writeOptions: _write);

    public bool IsTaskDone(string jobId, string path, long offset) => _db.Get(TaskKey(jobId, path, offset)) is not null;

    /// <summary>Removes a job and its task markers.</summary>
    public void Delete(string jobId)
    {
        using var batch = new WriteBatch();
        batch.Delete(JobKey(jobId));
        byte[] prefix = Encoding.UTF8.GetBytes($"task/{jobId}/");
        using (Iterator iterator = _db.NewIterator())
        {
            for (iterator.Seek(prefix); iterator.Valid() && iterator.Key().AsSpan().StartsWith(prefix); iterator.Next())
            {
                batch.Delete(iterator.Key());
            }
        }

        _db.Write(batch);
    }

    private static byte[] JobKey(string id) => Encoding.UTF8.GetBytes($"job/{id}");

    private static byte[] TaskKey(string jobId, string path, long offset) => Encoding.UTF8.GetBytes($"task/{jobId}/{path}\0{offset:D19}");

    public void Dispose() => _db.Dispose();
}
