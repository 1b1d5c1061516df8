using Dora.Registry;
using Dora.TestSupport;

namespace Dora.Client.IntegrationTests;

public sealed class FailoverTests
{
    private static void OneBigFile(string ufs) => TestFiles.Write(Path.Combine(ufs, "big.bin"), 4 << 20, seed: 3);

    [Fact]
    public async Task A_worker_stopped_during_a_long_read_is_replaced_by_the_next_owner_and_the_bytes_are_right()
    {
        await using TestCluster test = await TestCluster.StartAsync(2, OneBigFile, new DoraClientOptions { FallbackToUnderStorage = false });
        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(test.UfsPath, "big.bin"));
        WorkerRecord owner = test.Client.Cluster.OwnerOf("/big.bin");
        int ownerIndex = test.IndexOf(owner.Id);

        // The owner's under storage stalls, so the read is in flight on the owner when the owner goes away.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        test.Storages[ownerIndex].ReadGate = gate;
        var buffer = new byte[expected.Length];
        Task<int> read = test.Client.ReadAsync("/big.bin", 0, buffer);
        while (test.Storages[ownerIndex].Reads == 0)
        {
            await Task.Delay(5);
        }

        Task stopping = test.Cluster.StopWorkerAsync(ownerIndex);
        Assert.Equal(expected.Length, await read.Within());
        Assert.Equal(expected, buffer);
        Assert.Equal(1, test.Client.Metrics.WorkerFailovers);
        gate.SetResult();
        await stopping.Within();

        // Later reads go to the remaining worker directly.
        Array.Clear(buffer);
        Assert.Equal(expected.Length, await test.Client.ReadAsync("/big.bin", 0, buffer).Within());
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public async Task With_every_worker_gone_reads_fall_back_to_the_under_storage_and_are_counted()
    {
        await using TestCluster test = await TestCluster.StartAsync(1, OneBigFile);
        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(test.UfsPath, "big.bin"));
        await test.Cluster.StopWorkerAsync(0);

        var buffer = new byte[100_000];
        Assert.Equal(buffer.Length, await test.Client.ReadAsync("/big.bin", 1_000_000, buffer).Within());
        Assert.Equal(expected.AsSpan(1_000_000, buffer.Length).ToArray(), buffer);
        Assert.Equal(1, test.Client.Metrics.UnderStorageFallbacks);
    }

    [Fact]
    public async Task A_worker_reports_its_registration_in_its_metrics()
    {
        await using TestCluster test = await TestCluster.StartAsync(1, OneBigFile);
        var metrics = test.Cluster.Workers[0].Engine.Metrics;
        Assert.Equal(1, metrics.Registered);
        await test.Cluster.StopWorkerAsync(0);
        Assert.Equal(0, metrics.Registered);
        Assert.Equal(0, metrics.RegistrationRenewals);
    }

    [Fact]
    public async Task Without_the_fallback_a_read_with_no_worker_says_so()
    {
        await using TestCluster test = await TestCluster.StartAsync(1, OneBigFile, new DoraClientOptions { FallbackToUnderStorage = false });
        await test.Cluster.StopWorkerAsync(0);
        // The view still holds the last worker (an empty view is only believed after confirmation), which refuses.
        var error = await Assert.ThrowsAsync<Core.Errors.DoraException>(() => test.Client.ReadAsync("/big.bin", 0, new byte[10])).Within();
        Assert.True(error.IsTransient);
        Assert.Contains("No worker could serve '/big.bin'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", error.Message, StringComparison.Ordinal);
    }
}
