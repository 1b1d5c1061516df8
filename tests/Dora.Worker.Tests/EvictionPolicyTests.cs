using Dora.Worker.Pages;
using Dora.Worker.Pages.Eviction;

namespace Dora.Worker.Tests;

public class EvictionPolicyTests
{
    private static readonly CacheDirectory Directory = new(new CacheDirectoryOptions(Path.GetTempPath(), 1 << 30), EvictionPolicyKind.Lru, pageSize: 4096);

    [Fact]
    public void Lru_evicts_the_least_recently_read_page()
    {
        var policy = new LruPolicy();
        var pages = Add(policy, 3);
        policy.Touch(pages[0]);
        Assert.Same(pages[1], policy.Evict(Claim));
        Assert.Same(pages[2], policy.Evict(Claim));
        Assert.Same(pages[0], policy.Evict(Claim));
        Assert.Null(policy.Evict(Claim));
    }

    [Fact]
    public void Fifo_ignores_reads()
    {
        var policy = new FifoPolicy();
        var pages = Add(policy, 3);
        policy.Touch(pages[0]);
        Assert.Same(pages[0], policy.Evict(Claim));
    }

    [Fact]
    public void Lfu_evicts_the_least_frequently_read_page_oldest_first()
    {
        var policy = new LfuPolicy();
        var pages = Add(policy, 4);
        policy.Touch(pages[0]);
        policy.Touch(pages[0]);
        policy.Touch(pages[1]);
        policy.Touch(pages[3]);
        Assert.Same(pages[2], policy.Evict(Claim));
        Assert.Same(pages[1], policy.Evict(Claim));
        Assert.Same(pages[3], policy.Evict(Claim));
        Assert.Same(pages[0], policy.Evict(Claim));
    }

    [Fact]
    public void S3Fifo_lets_a_scan_pass_without_flushing_pages_read_twice()
    {
        var policy = new S3FifoPolicy(capacityBytes: 10 * Page(0).DiskBytes);
        var hot = Add(policy, 3);
        foreach (var page in hot)
        {
            policy.Touch(page);
        }

        var resident = new HashSet<PageEntry>(hot);
        for (var i = 0; i < 100; i++)
        {
            var scan = Page(1000 + i);
            policy.Add(scan);
            resident.Add(scan);
            if (resident.Count > 10)
            {
                resident.Remove(policy.Evict(Claim)!);
            }
        }

        Assert.All(hot, page => Assert.Contains(page, resident));
    }

    [Theory]
    [InlineData(EvictionPolicyKind.Lru)]
    [InlineData(EvictionPolicyKind.Fifo)]
    [InlineData(EvictionPolicyKind.Lfu)]
    [InlineData(EvictionPolicyKind.S3Fifo)]
    public void A_page_being_read_is_never_evicted(EvictionPolicyKind kind)
    {
        var policy = EvictionPolicyFactory.Create(kind, 100 * Page(0).DiskBytes);
        var pages = Add(policy, 5);
        foreach (var page in pages)
        {
            Assert.True(page.TryPin());
        }

        Assert.Null(policy.Evict(entry => entry.TryClaimForRemoval()));
        pages[3].Unpin();
        Assert.Same(pages[3], policy.Evict(entry => entry.TryClaimForRemoval()));
        Assert.True(pages[3].IsRemoved);
        Assert.False(pages[3].TryPin());
    }

    private static bool Claim(PageEntry entry) => entry.TryClaimForRemoval();

    private static PageEntry Page(long index) => new(new PageKey(new FileKey(42), index), Directory, 1, 1000);

    private static PageEntry[] Add(IEvictionPolicy policy, int count)
    {
        var pages = new PageEntry[count];
        for (var i = 0; i < count; i++)
        {
            pages[i] = Page(i);
            policy.Add(pages[i]);
        }

        return pages;
    }
}
