using Dora.Core.Resources;
using Dora.TestSupport;

namespace Dora.Core.Tests;

public sealed class ByteBudgetTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Leases_are_granted_while_they_fit_and_given_back_on_dispose()
    {
        var budget = new ByteBudget(100, "test memory", "--test");
        var a = await budget.AcquireAsync(60, Long, default).Within();
        var b = await budget.AcquireAsync(40, Long, default).Within();
        Assert.Equal(100, budget.InUse);
        a.Dispose();
        a.Dispose();
        Assert.Equal(40, budget.InUse);
        b.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task Waiters_are_served_in_order_so_a_large_request_is_not_starved()
    {
        var budget = new ByteBudget(100, "test memory", "--test");
        var held = await budget.AcquireAsync(90, Long, default).Within();
        var large = budget.AcquireAsync(80, Long, default).AsTask();
        var small = budget.AcquireAsync(5, Long, default).AsTask();

        // 10 bytes are free and the small request would fit, but it queues behind the large one.
        Assert.Equal(2, budget.Waiting);
        Assert.False(small.IsCompleted);
        held.Dispose();
        using var first = await large.Within();
        using var second = await small.Within();
        Assert.Equal(85, budget.InUse);
    }

    [Fact]
    public async Task A_request_larger_than_the_budget_is_refused_at_once_naming_the_setting()
    {
        var budget = new ByteBudget(10 << 20, "Flight decoding memory", "--flight-decode-memory");
        var error = await Assert.ThrowsAsync<BudgetExceededException>(() => budget.AcquireAsync(11 << 20, Long, default).AsTask()).Within();
        Assert.False(error.IsTransient);
        Assert.Contains("--flight-decode-memory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_line_and_those_behind_it_move_up()
    {
        var budget = new ByteBudget(100, "test memory", "--test");
        var held = await budget.AcquireAsync(50, Long, default).Within();
        using var cancel = new CancellationTokenSource();
        var blocked = budget.AcquireAsync(80, Long, cancel.Token).AsTask();
        var behind = budget.AcquireAsync(50, Long, default).AsTask();
        Assert.False(behind.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked).Within();
        using var granted = await behind.Within();
        Assert.Equal(100, budget.InUse);
        held.Dispose();
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public async Task A_waiter_that_runs_out_of_time_gets_a_transient_error_naming_the_budget()
    {
        var budget = new ByteBudget(100, "test memory", "--test");
        using var held = await budget.AcquireAsync(100, Long, default).Within();
        var error = await Assert.ThrowsAsync<BudgetExceededException>(() => budget.AcquireAsync(1, TimeSpan.Zero, default).AsTask()).Within();
        Assert.True(error.IsTransient);
        Assert.Contains("test memory", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, budget.Waiting);
    }
}
