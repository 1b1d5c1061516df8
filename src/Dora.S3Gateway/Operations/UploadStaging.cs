using System.Text.Json;
using System.Text.Json.Serialization;
using Dora.S3Gateway.Protocol;

namespace Dora.S3Gateway.Operations;

/// <summary>One multipart upload as staged: where it goes and when it began.</summary>
internal sealed record StagedUpload(string Bucket, string Key, DateTimeOffset Initiated);

/// <summary>One staged part: its number, size, MD5 (its ETag) and when it arrived.</summary>
internal sealed record StagedPart(int Number, long Size, string Md5Hex, DateTimeOffset LastModified);

[JsonSerializable(typeof(StagedUpload))]
[JsonSerializable(typeof(StagedPart))]
internal sealed partial class StagingJson : JsonSerializerContext;

/// <summary>
/// Multipart uploads staged on this worker's disk until they are completed: a directory per upload
/// (<c>STAGING/ID/</c>) with <c>upload.json</c> and, per part, its bytes and a small JSON record written after them
/// (a part is there once its record is). Upload ids are 32 hex digits, so no id names another path. Uploads left
/// unfinished longer than <see cref="MaxAge"/> are removed, as S3 lifecycle rules would.
/// </summary>
internal sealed class UploadStaging
{
    /// <summary>Most uploads in progress on one worker at once: 1,000.</summary>
    public const int MaxUploads = 1000;

    /// <summary>How long an unfinished upload is kept: 7 days.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    private readonly string _root;
    private readonly TimeProvider _time;

    public UploadStaging(string root, TimeProvider time)
    {
        _root = Path.GetFullPath(root);
        _time = time;
        Directory.CreateDirectory(_root);
    }

    public string Create(string bucket, string key)
    {
        RemoveExpired();
        if (Directory.GetDirectories(_root).Length >= MaxUploads)
        {
            throw S3Exception.ServiceUnavailable($"This worker has {MaxUploads} multipart uploads in progress; complete or abort some first.", "/" + bucket + "/" + key);
        }

        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        string directory = Path.Combine(_root, id);
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "upload.json"), JsonSerializer.SerializeToUtf8Bytes(new StagedUpload(bucket, key, _time.GetUtcNow()), StagingJson.Default.StagedUpload));
        return id;
    }

    /// <summary>The upload <paramref name="id"/>, which must be for <paramref name="bucket"/>/<paramref name="key"/>.</summary>
    /// <exception cref="S3Exception">NoSuchUpload.</exception>
    public StagedUpload Find(string? id, string bucket, string key)
    {
        string resource = "/" + bucket + "/" + key;
        if (id is null || id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            throw NoSuchUpload(resource);
        }

        try
        {
            StagedUpload upload = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(_root, id, "upload.json")), StagingJson.Default.StagedUpload)!;
            return upload.Bucket == bucket && upload.Key == key ? upload : throw NoSuchUpload(resource);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            throw NoSuchUpload(resource);
        }
    }

    /// <summary>Where part <paramref name="number"/>'s bytes go while they arrive (renamed into place by <see cref="AddPart"/>).</summary>
    public string TemporaryPartFile(string id, int number) => Path.Combine(_root, id, $"part-{number:D5}.{Guid.NewGuid():N}.tmp");

    /// <summary>Records a received part, replacing an earlier one with the same number.</summary>
    public void AddPart(string id, StagedPart part, string temporaryFile)
    {
        File.Move(temporaryFile, PartFile(id, part.Number), overwrite: true);
        File.WriteAllBytes(Path.Combine(_root, id, $"part-{part.Number:D5}.json"), JsonSerializer.SerializeToUtf8Bytes(part, StagingJson.Default.StagedPart));
    }

    public string PartFile(string id, int number) => Path.Combine(_root, id, $"part-{number:D5}");

    /// <summary>The parts received so far, by number.</summary>
    public List<StagedPart> Parts(string id)
    {
        var parts = new List<StagedPart>();
        foreach (string file in Directory.GetFiles(Path.Combine(_root, id), "part-*.json"))
        {
            try
            {
                parts.Add(JsonSerializer.Deserialize(File.ReadAllBytes(file), StagingJson.Default.StagedPart)!);
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // A record being rewritten: the part is re-sent or completion names it missing.
            }
        }

        parts.Sort((a, b) => a.Number.CompareTo(b.Number));
        return parts;
    }

    /// <summary>Every upload in progress with its id, for ListMultipartUploads.</summary>
    public List<(string Id, StagedUpload Upload)> All()
    {
        var uploads = new List<(string, StagedUpload)>();
        foreach (string directory in Directory.GetDirectories(_root))
        {
            try
            {
                uploads.Add((Path.GetFileName(directory), JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, "upload.json")), StagingJson.Default.StagedUpload)!));
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // Being created or removed.
            }
        }

        return uploads;
    }

    public void Remove(string id)
    {
        try
        {
            Directory.Delete(Path.Combine(_root, id), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone (completed or aborted twice).
        }
    }

    private void RemoveExpired()
    {
        DateTimeOffset oldest = _time.GetUtcNow() - MaxAge;
        foreach ((string id, StagedUpload upload) in All())
        {
            if (upload.Initiated < oldest)
            {
                Remove(id);
            }
        }
    }

    private static S3Exception NoSuchUpload(string resource) =>
        new(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", resource);
}
