using Dora.Core.Paths;

namespace Dora.Core.Mounts;

/// <summary>
/// One mount as given on a command line: <c>PREFIX=URI</c>, e.g. <c>/=file:///data</c> or
/// <c>/lake=s3://bucket/prefix?endpoint=http://127.0.0.1:9000&amp;consistency=immutable</c>. The URI's
/// <c>consistency</c> (ttl, immutable, always) and <c>ttl</c> (seconds) belong to the mount; the rest of it to the store.
/// </summary>
public sealed record MountSpec(DoraPath Prefix, Uri Storage, ConsistencyMode Consistency, TimeSpan Ttl)
{
    /// <param name="text">The mount as given.</param>
    /// <param name="defaultConsistency">The consistency of a mount that names none.</param>
    /// <param name="defaultTtl">The TTL of a mount that names none.</param>
    /// <exception cref="FormatException">The text is not a valid mount; the message says why.</exception>
    public static MountSpec Parse(string text, ConsistencyMode defaultConsistency, TimeSpan defaultTtl)
    {
        ArgumentNullException.ThrowIfNull(text);
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new FormatException($"'{text}' is not PREFIX=URI (e.g. /=file:///data or /lake=s3://bucket/prefix)");
        }

        DoraPath prefix;
        try
        {
            prefix = DoraPath.Parse(text[..equals]);
        }
        catch (Errors.InvalidPathException e)
        {
            throw new FormatException($"mount prefix '{text[..equals]}': {e.Message}");
        }

        string target = text[(equals + 1)..];
        if (!Uri.TryCreate(target, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("file" or "s3"))
        {
            throw new FormatException($"'{target}' is not a file:// or s3:// URI");
        }

        ConsistencyMode consistency = defaultConsistency;
        TimeSpan ttl = defaultTtl;
        var rest = new List<string>();
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            string value = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
            switch (parts[0])
            {
                case "consistency":
                    consistency = Enum.TryParse(value, ignoreCase: true, out ConsistencyMode mode) && Enum.IsDefined(mode)
                        ? mode
                        : throw new FormatException($"consistency '{value}' must be ttl, immutable or always");
                    break;
                case "ttl":
                    ttl = int.TryParse(value, out int seconds) && seconds >= 0
                        ? TimeSpan.FromSeconds(seconds)
                        : throw new FormatException($"ttl '{value}' must be a whole number of seconds");
                    break;
                default:
                    rest.Add(pair);
                    break;
            }
        }

        var storage = new UriBuilder(uri) { Query = string.Join('&', rest) }.Uri;
        return new MountSpec(prefix, storage, consistency, ttl);
    }

    /// <summary>
    /// The mount in the form <see cref="Parse"/> reads, with its consistency (and TTL) spelled out:
    /// <c>/lake=s3://bucket/prefix?endpoint=...&amp;consistency=ttl&amp;ttl=60</c>. It holds no credentials (URIs with
    /// them are refused), so workers advertise it and a new worker can adopt it.
    /// </summary>
    public override string ToString()
    {
        string storage = Storage.ToString();
        string mode = Consistency.ToString().ToLowerInvariant();
        string options = Consistency == ConsistencyMode.Ttl
            ? $"consistency={mode}&ttl={(long)Ttl.TotalSeconds}"
            : $"consistency={mode}";
        return $"{Prefix}={storage}{(storage.Contains('?', StringComparison.Ordinal) ? '&' : '?')}{options}";
    }

    /// <summary>The local folder of a <c>file://</c> mount.</summary>
    public string LocalFolder => Storage.Scheme == "file" ? Storage.LocalPath : throw new InvalidOperationException($"{Storage} is not a folder");
}
