using System.Security.Cryptography;
using System.Text;
using Dora.Client;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Core.UnderStorage;
using Dora.Registry;
using Dora.Worker.Hosting;
using Dora.Worker.Reading;

namespace Dora.S3Gateway;

/// <summary>What the gateway knows of one object or prefix: its kind, length, time, and the version that pins reads.</summary>
/// <param name="IsDirectory">True for a directory (an S3 common prefix).</param>
/// <param name="Length">Bytes.</param>
/// <param name="LastModified">As the under storage reports it.</param>
/// <param name="Version">The store's version (its ETag, if it has one), passed back so every read is of this version.</param>
/// <param name="ETag">The S3 ETag: quoted, 32 hex digits derived from Dora's fingerprint (length, time, store version), then <c>-1</c>.</param>
internal sealed record ObjectStatus(bool IsDirectory, long Length, DateTimeOffset LastModified, string? Version, string ETag)
{
    public static ObjectStatus Of(bool isDirectory, long length, DateTimeOffset lastModified, string? version) =>
        new(isDirectory, length, lastModified, version, S3ETag(new Fingerprint(length, lastModified, version)));

    /// <summary>
    /// Dora's fingerprint changes with every version, so its hash is the ETag, the same on every worker. It is written as
    /// S3 writes a multipart object's ETag (<c>"hex-1"</c>): an ETag of bare hex promises the body's MD5, which SDKs check
    /// (the AWS SDK for .NET fails the read otherwise), and Dora does not compute one.
    /// </summary>
    private static string S3ETag(Fingerprint fingerprint) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToKeyString())), 0, 16) + "-1\"";
}

/// <summary>Reads one version of an object, chunk by chunk.</summary>
internal interface IObjectReader
{
    ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken);
}

/// <summary>
/// Where the gateway's bytes and listings come from: this worker's own engine for paths it owns (no extra hop), the
/// owner through <see cref="DoraClient"/> otherwise (its routing and failover), so a client that talks to one gateway
/// is still served from the owner's cache.
/// </summary>
internal sealed class ObjectSource(WorkerEndpointContext worker, DoraClient? client)
{
    private StorageEngine Engine => worker.Engine;

    /// <summary>True when this worker owns <paramref name="path"/> (or there is no cluster to route in).</summary>
    public bool IsLocal(DoraPath path)
    {
        ClusterView? cluster = worker.Cluster();
        return client is null || cluster is null || cluster.Ring.IsEmpty || cluster.OwnerOf(path.Value).Id == worker.WorkerId;
    }

    /// <summary>The owner of <paramref name="path"/>, null when this worker.</summary>
    public WorkerRecord? RemoteOwner(DoraPath path) => IsLocal(path) ? null : worker.Cluster()!.OwnerOf(path.Value);

    public async Task<ObjectStatus> StatAsync(DoraPath path, CancellationToken cancellationToken)
    {
        if (IsLocal(path))
        {
            UfsFileStatus status = await Engine.GetStatusAsync(path, cancellationToken).ConfigureAwait(false);
            return ObjectStatus.Of(status.IsDirectory, status.Length, status.LastModified, status.ETag);
        }

        StatReply reply = await client!.StatAsync(path.Value, cancellationToken).ConfigureAwait(false);
        return ObjectStatus.Of(reply.IsDirectory, reply.Length, reply.LastModified, reply.ETag);
    }

    public async Task<IObjectReader> OpenAsync(DoraPath path, ObjectStatus status, CancellationToken cancellationToken)
    {
        if (IsLocal(path))
        {
            OpenedFile file = await Engine.OpenAsync(path, status.Version, cancellationToken).ConfigureAwait(false);
            return new EngineReader(Engine, file);
        }

        return new ClientReader(client!, path.Value, status.Version);
    }

    /// <summary>One page of a directory's children in name order, from the directory's owner.</summary>
    public async Task<(IReadOnlyList<ListEntry> Entries, string? Next)> ListAsync(DoraPath directory, string? after, int limit, CancellationToken cancellationToken)
    {
        if (IsLocal(directory))
        {
            UfsListingPage page = await Engine.ListAsync(directory, after, limit, cancellationToken).ConfigureAwait(false);
            return (page.Entries.Select(e => new ListEntry(e.Name, e.IsDirectory, e.Length, e.LastModified, e.ETag)).ToList(), page.NextToken);
        }

        ListReply reply = await client!.ListAsync(directory.Value, after, limit, cancellationToken).ConfigureAwait(false);
        return (reply.Entries, reply.Next);
    }

    /// <summary>The store and path a write of <paramref name="path"/> goes to: this worker's mount of it (every worker has the same mounts).</summary>
    public (IUnderStorage Storage, string RelativePath) StoreOf(DoraPath path)
    {
        Dora.Core.Mounts.ResolvedPath resolved = Engine.Mounts.Resolve(path);
        return (resolved.Mount.Storage, resolved.RelativePath);
    }

    /// <summary>
    /// After a write or delete of <paramref name="path"/>: every worker forgets what it knew of the path and of the
    /// listings that show it, up to <paramref name="upTo"/> (directories a write created appear in their parents'
    /// listings), so the next read anywhere sees the new version whole, and no page of the old one is served.
    /// </summary>
    public async Task InvalidateAsync(DoraPath path, DoraPath upTo, CancellationToken cancellationToken)
    {
        for (DoraPath current = path; ; current = current.Parent)
        {
            await Engine.InvalidateAsync(current, recursive: false, cancellationToken).ConfigureAwait(false);
            if (client is not null && worker.Cluster() is { Ring.IsEmpty: false })
            {
                await client.InvalidateAsync(current.Value, recursive: false, cancellationToken).ConfigureAwait(false);
            }

            if (current == upTo || current.IsRoot)
            {
                return;
            }
        }
    }

    private sealed class EngineReader(StorageEngine engine, OpenedFile file) : IObjectReader
    {
        public ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
            engine.ReadAsync(file, offset, destination, cancellationToken);
    }

    private sealed class ClientReader(DoraClient client, string path, string? version) : IObjectReader
    {
        public async ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
            await client.ReadAsync(path, offset, destination, version, cancellationToken).ConfigureAwait(false);
    }
}
