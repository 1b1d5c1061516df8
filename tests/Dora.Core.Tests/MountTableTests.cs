using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;

namespace Dora.Core.Tests;

public sealed class MountTableTests : IDisposable
{
    private readonly TemporaryDirectory _root = new("mounts");

    [Fact]
    public void Longest_prefix_wins()
    {
        Directory.CreateDirectory(_root.Combine("a"));
        Directory.CreateDirectory(_root.Combine("b"));
        using var table = new MountTable(
        [
            new Mount(DoraPath.Root, new LocalUnderStorage(_root.Combine("a"))),
            new Mount(DoraPath.Parse("/lake"), new LocalUnderStorage(_root.Combine("b")), ConsistencyMode.Immutable),
        ]);

        var lake = table.Resolve(DoraPath.Parse("/lake/sales/x.parquet"));
        Assert.Equal("/lake", lake.Mount.Prefix.Value);
        Assert.Equal("sales/x.parquet", lake.RelativePath);
        Assert.Equal(ConsistencyMode.Immutable, lake.Mount.Consistency);

        var other = table.Resolve(DoraPath.Parse("/lakehouse/y"));
        Assert.Equal("/", other.Mount.Prefix.Value);
        Assert.Equal("lakehouse/y", other.RelativePath);
        Assert.Equal(string.Empty, table.Resolve(DoraPath.Parse("/lake")).RelativePath);
    }

    [Fact]
    public void A_path_outside_every_mount_is_not_found()
    {
        using var table = new MountTable([new Mount(DoraPath.Parse("/lake"), new LocalUnderStorage(_root.Path))]);
        Assert.Throws<DoraFileNotFoundException>(() => table.Resolve(DoraPath.Parse("/other")));
    }

    [Fact]
    public void The_same_mount_point_twice_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new MountTable(
        [
            new Mount(DoraPath.Root, new LocalUnderStorage(_root.Path)),
            new Mount(DoraPath.Root, new LocalUnderStorage(_root.Path)),
        ]));
        Assert.Contains("'/'", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _root.Dispose();
}
