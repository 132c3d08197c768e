namespace Vitals.Web;

/// <summary>One throttled account name or address as admins see it.</summary>
/// <param name="Kind"><c>account</c> or <c>address</c>.</param>
/// <param name="Key">The account name (unknown names in their <see cref="UserService.Pseudonymize"/> form) or the address.</param>
/// <param name="Failures">Failed logins counted since the last success or quiet hour.</param>
/// <param name="RetryAt">No login for this key is checked before then (null: not delayed yet).</param>
public sealed record ThrottleView(string Kind, string Key, int Failures, DateTimeOffset? RetryAt);

/// <summary>
/// Growing delays after failed logins instead of a hard lockout (ASVS 2.2.1), per account name and per client
/// address. The first failures are free; each further one doubles the wait, up to a cap, so a guesser gets a
/// handful of tries per hour while staff are never locked out for long. A browser address that signed in to an
/// account successfully before is exempt from that account's delay (only its own address delay applies), so an
/// attacker elsewhere cannot keep a nurse out of the alarm view. Unknown names are throttled exactly like real ones,
/// so the answers never tell them apart. State is in memory: a restart clears it.
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    /// <summary>Failures per account name before delays start.</summary>
    public const int FreeAccountFailures = 5;

    /// <summary>Failures per address before delays start (a shared ward PC sees many typos).</summary>
    public const int FreeAddressFailures = 10;

    /// <summary>Longest delay on one account name: short, since anyone can trigger it.</summary>
    public static readonly TimeSpan MaxAccountDelay = TimeSpan.FromMinutes(1);

    /// <summary>Longest delay on one address.</summary>
    public static readonly TimeSpan MaxAddressDelay = TimeSpan.FromMinutes(15);

    /// <summary>A key with no failure for this long starts again from zero.</summary>
    public static readonly TimeSpan Forget = TimeSpan.FromHours(1);

    /// <summary>How long a successful sign-in exempts its address from the account's delay.</summary>
    public static readonly TimeSpan KnownAddressFor = TimeSpan.FromDays(30);

    // Bounds memory when someone sprays random names: the stalest entries go first.
    private const int MaxEntries = 10_000;

    private readonly Lock gate = new();
    private readonly Dictionary<string, Entry> accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Entry> addresses = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Account, string Address), DateTimeOffset> known = [];

    /// <summary>When the next attempt for this name from this address may be checked, or null if it may be now.</summary>
    public DateTimeOffset? RetryAt(string account, string address)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            var byAddress = Until(addresses, address, now);
            var byAccount = IsKnown(account, address, now) ? null : Until(accounts, account, now);
            return Later(byAddress, byAccount);
        }
    }

    /// <summary>Counts a failed attempt against both keys.</summary>
    public void Failed(string account, string address)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            Count(accounts, account, now, FreeAccountFailures, MaxAccountDelay);
            Count(addresses, address, now, FreeAddressFailures, MaxAddressDelay);
        }
    }

    /// <summary>A successful sign-in clears both keys and remembers the address for the account.</summary>
    public void Succeeded(string account, string address)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            accounts.Remove(account);
            addresses.Remove(address);
            if (known.Count >= MaxEntries)
            {
                known.Remove(known.MinBy(k => k.Value).Key);
            }

            known[(account.ToLowerInvariant(), address)] = now;
        }
    }

    /// <summary>Every key with failures, newest first; <paramref name="display"/> turns account names into what admins may see.</summary>
    public List<ThrottleView> Snapshot(Func<string, string> display)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            return
            [
                .. accounts.Where(e => now - e.Value.Last < Forget).Select(e => new ThrottleView("account", display(e.Key), e.Value.Failures, Future(e.Value.RetryAt, now)))
                    .Concat(addresses.Where(e => now - e.Value.Last < Forget).Select(e => new ThrottleView("address", e.Key, e.Value.Failures, Future(e.Value.RetryAt, now))))
                    .OrderByDescending(v => v.RetryAt),
            ];
        }
    }

    /// <summary>Clears one account name's or address's count (null: clear everything). False if there was nothing to clear.</summary>
    public bool Clear(string? account, string? address)
    {
        lock (gate)
        {
            if (account is null && address is null)
            {
                var any = accounts.Count + addresses.Count > 0;
                accounts.Clear();
                addresses.Clear();
                return any;
            }

            return (account is not null && accounts.Remove(account)) | (address is not null && addresses.Remove(address));
        }
    }

    private bool IsKnown(string account, string address, DateTimeOffset now) =>
        known.TryGetValue((account.ToLowerInvariant(), address), out var at) && now - at < KnownAddressFor;

    private static DateTimeOffset? Until(Dictionary<string, Entry> entries, string key, DateTimeOffset now) =>
        entries.TryGetValue(key, out var e) && now - e.Last < Forget ? Future(e.RetryAt, now) : null;

    private static DateTimeOffset? Future(DateTimeOffset? at, DateTimeOffset now) => at > now ? at : null;

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static void Count(Dictionary<string, Entry> entries, string key, DateTimeOffset now, int free, TimeSpan max)
    {
        var failures = entries.TryGetValue(key, out var e) && now - e.Last < Forget ? e.Failures + 1 : 1;
        if (e is null && entries.Count >= MaxEntries)
        {
            entries.Remove(entries.MinBy(x => x.Value.Last).Key);
        }

        // 1 s after the first failure beyond the free ones, then 2, 4, 8 ... s up to the cap.
        var extra = failures - free;
        DateTimeOffset? retryAt = extra <= 0 ? null : now + TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(extra - 1, 30)), max.TotalSeconds));
        entries[key] = new Entry(failures, now, retryAt);
    }

    private sealed record Entry(int Failures, DateTimeOffset Last, DateTimeOffset? RetryAt);
}
