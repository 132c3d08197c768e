namespace Vitals.Core.Alarms;

/// <summary>
/// One effective profile's rules, sorted by sign and direction once, for judging readings. A reading used to scan every
/// band of the profile (22 limit bands, twice) through interface calls: with this and the per-chair cache in
/// <see cref="ChairState.Rules"/>, the engine's CPU per reading fell by about a third in tests/Vitals.Core.Benchmarks.
/// Bands keep the profile's order, so ties are decided as before.
/// </summary>
internal sealed class ProfileRules
{
    private static readonly int SignCount = Enum.GetValues<Sign>().Length;

    private readonly SignRules[] bySign;

    public ProfileRules(AlarmProfile profile)
    {
        Profile = profile;
        bySign = new SignRules[SignCount];
        for (var i = 0; i < SignCount; i++)
        {
            var sign = (Sign)i;
            bySign[i] = new SignRules(
                [.. profile.Limits.Where(b => b.Sign == sign && b.Direction == LimitDirection.Low)],
                [.. profile.Limits.Where(b => b.Sign == sign && b.Direction == LimitDirection.High)],
                [.. profile.BaselineChanges.Where(b => b.Sign == sign && b.Direction == LimitDirection.Low)],
                [.. profile.BaselineChanges.Where(b => b.Sign == sign && b.Direction == LimitDirection.High)],
                [.. profile.RateRules.Where(r => r.Sign == sign)],
                profile.TimingFor(sign));
        }
    }

    /// <summary>The effective profile these rules come from.</summary>
    public AlarmProfile Profile { get; }

    /// <summary>The rules of <paramref name="sign"/>.</summary>
    public SignRules For(Sign sign) => bySign[(int)sign];
}

/// <summary>The rules of one sign in one profile, split by direction, in the profile's order.</summary>
internal sealed record SignRules(
    LimitBand[] LowLimits, LimitBand[] HighLimits, BaselineBand[] Drops, BaselineBand[] Rises, RateOfChangeRule[] Rates, SignTiming Timing)
{
    public LimitBand[] Limits(LimitDirection direction) => direction == LimitDirection.Low ? LowLimits : HighLimits;

    public BaselineBand[] BaselineChanges(LimitDirection direction) => direction == LimitDirection.Low ? Drops : Rises;
}
