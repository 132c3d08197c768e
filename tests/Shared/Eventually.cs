using System.Diagnostics;

namespace Vitals.Testing;

/// <summary>
/// The one wait-until helper of the test projects (linked into each): polls a condition until it holds, with a
/// generous limit so a busy machine only makes a test slower, never red. Tests wait for conditions this way and
/// never assert how long something took; speed is measured by the benchmarks and load commands.
/// </summary>
public static class Eventually
{
    /// <summary>How long a condition may take unless a test says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Completes once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null, CancellationToken ct = default) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout, ct);

    /// <inheritdoc cref="TrueAsync(Func{bool}, string, TimeSpan?, CancellationToken)"/>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var waited = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (waited.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}.");
            }

            await Task.Delay(PollInterval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the first non-null result of <paramref name="probe"/>; throws like <see cref="TrueAsync(Func{bool}, string, TimeSpan?, CancellationToken)"/>.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null, CancellationToken ct = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        T? value = null;
        await TrueAsync(async () => (value = await probe().ConfigureAwait(false)) is not null, what, timeout, ct).ConfigureAwait(false);
        return value!;
    }
}
