using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dora.Registry;

namespace Dora.Worker.Hosting;

/// <summary>
/// A worker's id, generated once and kept in its first cache directory (<c>worker-identity.json</c>), so a restarted
/// worker takes the same place on the ring and finds its cache warm. The file also keeps the last registration
/// session, which lets a worker that crashed take its own entry back at once after a restart.
/// </summary>
public sealed class WorkerIdentity
{
    /// <summary>The file name inside the cache directory.</summary>
    public const string FileName = "worker-identity.json";

    private readonly string _file;

    private WorkerIdentity(string file, IdentityFile content)
    {
        _file = file;
        Id = content.Id;
        CreatedAt = content.CreatedAt;
        Session = content.Session;
    }

    /// <summary>The worker id: <c>w-</c> and 16 random hex digits unless chosen by the operator.</summary>
    public string Id { get; }

    /// <summary>When the id was generated.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The last registration session (etcd lease id), if any.</summary>
    public string? Session { get; private set; }

    /// <summary>
    /// Loads the identity kept in <paramref name="directory"/>, creating it on first start. An explicit
    /// <paramref name="requestedId"/> replaces a stored id (and is stored).
    /// </summary>
    /// <exception cref="InvalidDataException">The identity file is corrupt; the message names it.</exception>
    public static WorkerIdentity LoadOrCreate(string directory, string? requestedId)
    {
        if (requestedId is not null && !WorkerRecord.IsValidId(requestedId))
        {
            throw new ArgumentException(
                $"Worker id '{requestedId}' is invalid: use 1 to {WorkerRecord.MaxIdLength} characters from letters, digits, '.', '_' and '-'.");
        }

        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, FileName);
        IdentityFile? stored = File.Exists(file) ? Read(file) : null;
        if (stored is not null && (requestedId is null || requestedId == stored.Id))
        {
            return new WorkerIdentity(file, stored);
        }

        var created = new IdentityFile(requestedId ?? NewId(), DateTimeOffset.UtcNow, Session: null);
        Write(file, created);
        return new WorkerIdentity(file, created);
    }

    /// <summary>Remembers the current registration session for the next start.</summary>
    public void SaveSession(string? session)
    {
        Session = session;
        Write(_file, new IdentityFile(Id, CreatedAt, session));
    }

    private static string NewId() => "w-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static IdentityFile Read(string file)
    {
        try
        {
            IdentityFile? content = JsonSerializer.Deserialize(File.ReadAllBytes(file), IdentityJson.Default.IdentityFile);
            if (content is null || !WorkerRecord.IsValidId(content.Id))
            {
                throw new InvalidDataException($"The worker identity file '{file}' holds no valid id.");
            }

            return content;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The worker identity file '{file}' is corrupt ({e.Message}); delete it to give this worker a new id.", e);
        }
    }

    /// <summary>Writes through a temporary file and a rename, so a crash never leaves half an identity.</summary>
    private static void Write(string file, IdentityFile content)
    {
        string temporary = file + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(content, IdentityJson.Default.IdentityFile));
        File.Move(temporary, file, overwrite: true);
    }

    internal sealed record IdentityFile(string Id, DateTimeOffset CreatedAt, string? Session);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(WorkerIdentity.IdentityFile))]
internal sealed partial class IdentityJson : JsonSerializerContext;
