using System.Runtime.CompilerServices;
using Dora.Core.Paths;
using Dora.Core.Protocol;

namespace Dora.S3Gateway.Operations;

/// <summary>One item of a bucket listing: an object (<see cref="Entry"/> set) or a common prefix.</summary>
internal readonly record struct ListedKey(string Key, ListEntry? Entry);

/// <summary>
/// The keys of a bucket in S3's order (ordinal by key) from Dora's directory listings (ordinal by name). The two
/// differ where a directory's key <c>a/</c> sorts after a sibling like <c>a-b</c> that sorts after its name <c>a</c>;
/// a small heap holds such entries until no later name can precede them. Listings start at the first name that can
/// matter (<c>after</c>), so a page deep into a large directory does not list it from the start, and stop once names
/// leave the prefix.
/// </summary>
internal static class KeyWalk
{
    /// <summary>Directory listings are fetched this many names at a time.</summary>
    private const int PageSize = 1000;

    /// <summary>
    /// Keys under <paramref name="directory"/> (whose keys start with <paramref name="directoryKey"/>) that start with
    /// <paramref name="directoryKey"/> + <paramref name="namePrefix"/> and sort after <paramref name="startAfter"/>;
    /// directories are descended into when <paramref name="recurse"/>, else returned as common prefixes.
    /// </summary>
    public static async IAsyncEnumerable<ListedKey> KeysAsync(
        ObjectSource objects, DoraPath directory, string directoryKey, string namePrefix, string? startAfter, bool recurse, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pending = new PriorityQueue<ListEntry, string>(StringComparer.Ordinal);
        string? cursor = FirstCursor(directoryKey, namePrefix, startAfter);
        bool more = true;
        while (more)
        {
            (IReadOnlyList<ListEntry> entries, string? next) page;
            try
            {
                page = await objects.ListAsync(directory, cursor, PageSize, cancellationToken).ConfigureAwait(false);
            }
            catch (Dora.Core.Errors.DoraFileNotFoundException)
            {
                yield break;
            }

            foreach (ListEntry entry in page.entries)
            {
                if (!entry.Name.StartsWith(namePrefix, StringComparison.Ordinal))
                {
                    if (string.CompareOrdinal(entry.Name, namePrefix) > 0)
                    {
                        // Names are ordered: none after this one has the prefix.
                        more = false;
                        break;
                    }

                    continue;
                }

                // Whatever sorts before this name can go now: no later entry's key can precede it.
                string name = directoryKey + entry.Name;
                while (pending.TryPeek(out ListEntry? ready, out string? key) && string.CompareOrdinal(key, name) <= 0)
                {
                    pending.Dequeue();
                    await foreach (ListedKey item in EmitAsync(objects, directory, ready, key, startAfter, recurse, cancellationToken).ConfigureAwait(false))
                    {
                        yield return item;
                    }
                }

                pending.Enqueue(entry, name + (entry.IsDirectory ? "/" : string.Empty));
            }

            cursor = page.next;
            more &= cursor is not null;
        }

        while (pending.TryDequeue(out ListEntry? ready, out string? key))
        {
            await foreach (ListedKey item in EmitAsync(objects, directory, ready, key, startAfter, recurse, cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
    }

    private static async IAsyncEnumerable<ListedKey> EmitAsync(
        ObjectSource objects, DoraPath directory, ListEntry entry, string key, string? startAfter, bool recurse, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!entry.IsDirectory)
        {
            if (startAfter is null || string.CompareOrdinal(key, startAfter) > 0)
            {
                yield return new ListedKey(key, entry);
            }

            yield break;
        }

        if (!recurse)
        {
            if (startAfter is null || string.CompareOrdinal(key, startAfter) > 0)
            {
                yield return new ListedKey(key, null);
            }

            yield break;
        }

        // Every key below sorts after the directory's key and before the key with its last character raised: skip the
        // subtree when the listing resumes past it.
        if (startAfter is not null && !startAfter.StartsWith(key, StringComparison.Ordinal) && string.CompareOrdinal(startAfter, key) > 0)
        {
            yield break;
        }

        await foreach (ListedKey item in KeysAsync(objects, directory.Combine(entry.Name), key, string.Empty, startAfter, recurse: true, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>
    /// Where a directory's listing may start: at the name prefix, or at the name <paramref name="startAfter"/> reaches in
    /// this directory, whichever is later; but never past a shorter name that is a directory whose key sorts after
    /// <paramref name="startAfter"/> (<c>a/</c> after <c>a-b</c>), so the cut is made before the first character that sorts
    /// before '/'. Returns the exclusive <c>after</c> of the listing call, null for the beginning.
    /// </summary>
    private static string? FirstCursor(string directoryKey, string namePrefix, string? startAfter)
    {
        string from = namePrefix;
        if (startAfter is not null && startAfter.StartsWith(directoryKey, StringComparison.Ordinal))
        {
            string relative = startAfter[directoryKey.Length..];
            int slash = relative.IndexOf('/', StringComparison.Ordinal);
            string segment = slash < 0 ? relative : relative[..slash];
            int cut = 0;
            while (cut < segment.Length && segment[cut] >= '/')
            {
                cut++;
            }

            string candidate = segment[..cut];
            if (string.CompareOrdinal(candidate, from) > 0)
            {
                from = candidate;
            }
        }

        // Names >= from: the listing's "after" is exclusive, so start just before it.
        return from.Length == 0 ? null : from[..^1] + (char)(from[^1] - 1) + '\uffff';
    }
}
