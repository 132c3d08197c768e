using Vitals.Core;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// When a sign counts as stale: its last value arrived longer ago than the sign's threshold while the chair's monitor
/// is otherwise alive (some sign arrived within <see cref="AliveWindow"/>). A chair that sends nothing at all is the
/// FEED LOST alarm's job, not this list's. Signs never seen on the chair are not listed (the monitor may not measure them).
/// </summary>
public sealed class StalePolicy
{
    /// <summary>How recent the chair's newest value must be for the feed to count as alive.</summary>
    public static readonly TimeSpan AliveWindow = TimeSpan.FromSeconds(15);

    /// <summary>Default thresholds: continuous signs 15 s; temperature 10 min; NIBP (cuff cycles up to 15-30 min) 30 min.</summary>
    public static readonly IReadOnlyDictionary<Sign, TimeSpan> Defaults = new Dictionary<Sign, TimeSpan>
    {
        [Sign.Hr] = TimeSpan.FromSeconds(15),
        [Sign.Pr] = TimeSpan.FromSeconds(15),
        [Sign.Spo2] = TimeSpan.FromSeconds(15),
        [Sign.Rr] = TimeSpan.FromSeconds(15),
        [Sign.Temp] = TimeSpan.FromMinutes(10),
        [Sign.NibpSys] = TimeSpan.FromMinutes(30),
        [Sign.NibpDia] = TimeSpan.FromMinutes(30),
        [Sign.NibpMap] = TimeSpan.FromMinutes(30),
    };

    private readonly Dictionary<Sign, TimeSpan> thresholds;

    /// <summary>Creates a policy; <paramref name="seconds"/> overrides defaults by sign short name (0 turns a sign's check off).</summary>
    public StalePolicy(IReadOnlyDictionary<string, double>? seconds = null)
    {
        thresholds = new Dictionary<Sign, TimeSpan>(Defaults);
        foreach (var (name, value) in seconds ?? new Dictionary<string, double>())
        {
            if (Signs.TryParse(name, out var sign))
            {
                if (value <= 0)
                {
                    thresholds.Remove(sign);
                }
                else
                {
                    thresholds[sign] = TimeSpan.FromSeconds(value);
                }
            }
        }
    }

    /// <summary>The threshold of each checked sign.</summary>
    public IReadOnlyDictionary<Sign, TimeSpan> Thresholds => thresholds;

    /// <summary>The thresholds in seconds, as the dashboard's snapshot carries them (an unchecked sign is absent).</summary>
    public IReadOnlyDictionary<Sign, double> Seconds() => thresholds.ToDictionary(t => t.Key, t => t.Value.TotalSeconds);

    /// <summary>The stale signs, in sign order, given each sign's last arrival time.</summary>
    public IReadOnlyList<Sign> Evaluate(IReadOnlyDictionary<Sign, DateTimeOffset> received, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(received);
        if (received.Count == 0 || now - received.Values.Max() > AliveWindow)
        {
            return [];
        }

        List<Sign>? stale = null;
        foreach (var (sign, at) in received)
        {
            if (thresholds.TryGetValue(sign, out var limit) && now - at > limit)
            {
                (stale ??= []).Add(sign);
            }
        }

        if (stale is null)
        {
            return [];
        }

        stale.Sort();
        return stale;
    }
}
