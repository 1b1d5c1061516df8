using Dora.Core.Errors;
using Dora.TestSupport;

namespace Dora.FaultTests;

/// <summary>
/// A source file overwritten while it is cached, with a new modification time or with its length and modification time
/// restored (cp -p, rsync -t): in every consistency mode a reader gets the old version whole or the new one whole,
/// never a mix; always mode sees the change at once, ttl mode within its TTL, immutable mode once invalidated. A stream
/// that meets the new version partway (the TTL ran out under it) fails with <see cref="VersionMismatchException"/>.
/// </summary>
public sealed class SourceOverwriteTests
{
    private const int Length = 6 << 20;

    public static TheoryData<string, bool> Cases() => new()
    {
        { "always", false }, { "always", true },
        { "ttl", false }, { "ttl", true },
        { "immutable", false }, { "immutable", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Readers_get_one_whole_version_in_every_consistency_mode(string consistency, bool restoreTime)
    {
        byte[] before = [];
        await using ProcessCluster cluster = await ProcessCluster.StartAsync(
            2, ufs => before = TestFiles.Write(Path.Combine(ufs, "f.bin"), Length, seed: 1), "--consistency", consistency, "--ttl", "2", "--page-size", "256KiB");
        Assert.Equal(before, await ReadWholeAsync(cluster));

        string source = Path.Combine(cluster.Ufs, "f.bin");
        byte[] after = restoreTime ? TestFiles.RewriteKeepingLengthAndTime(source, seed: 2) : TestFiles.Write(source, Length, seed: 2);
        switch (consistency)
        {
            case "always":
                Assert.Equal(after, await ReadWholeAsync(cluster));
                break;
            case "immutable":
                Assert.Equal(before, await ReadWholeAsync(cluster));
                (int code, string text) = await cluster.DoraAsync("invalidate", "/f.bin");
                Assert.True(code == 0, text);
                Assert.Equal(after, await ReadWholeAsync(cluster));
                break;
            default:
                // Within the 2 s TTL the old version may still be served, whole, or a read may meet the new one partway
                // and fail; after it, the new version.
                DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
                while (true)
                {
                    byte[]? now = await ReadUnlessChangedAsync(cluster);
                    if (now is not null && now.SequenceEqual(after))
                    {
                        break;
                    }

                    Assert.True(now is null || now.SequenceEqual(before), "a read mixed two versions");
                    Assert.True(DateTime.UtcNow < deadline, "the ttl mode never saw the new version");
                    await Task.Delay(200);
                }

                break;
        }
    }

    /// <summary>The whole file, or null when it changed partway and the stream said so.</summary>
    private static async Task<byte[]?> ReadUnlessChangedAsync(ProcessCluster cluster)
    {
        try
        {
            return await ReadWholeAsync(cluster);
        }
        catch (VersionMismatchException)
        {
            return null;
        }
    }

    /// <summary>The whole file through a stream, in 256 KiB reads, as an application reads it.</summary>
    private static async Task<byte[]> ReadWholeAsync(ProcessCluster cluster)
    {
        await using Stream stream = await cluster.Client.OpenReadAsync("/f.bin").Within();
        var bytes = new byte[stream.Length];
        for (int offset = 0; offset < bytes.Length; offset += 256 << 10)
        {
            await stream.ReadExactlyAsync(bytes.AsMemory(offset, Math.Min(256 << 10, bytes.Length - offset))).Within();
        }

        return bytes;
    }
}
