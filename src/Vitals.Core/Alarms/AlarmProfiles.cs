namespace Vitals.Core.Alarms;

/// <summary>The built-in profiles. Sources are listed in docs-alarms.md.</summary>
public static class AlarmProfiles
{
    /// <summary>Name of the default adult profile.</summary>
    public const string DefaultAdultName = "default adult";

    /// <summary>Name of the magnesium sulfate infusion profile.</summary>
    public const string MgSo4Name = "MgSO4 infusion";

    /// <summary>How far back inside a limit (mmHg) a cuff reading must be to clear an NIBP alarm.</summary>
    public const double NibpClearMargin = 5;

    private const AlarmPriority L = AlarmPriority.Low;
    private const AlarmPriority M = AlarmPriority.Medium;
    private const AlarmPriority H = AlarmPriority.High;
    private const LimitDirection Lo = LimitDirection.Low;
    private const LimitDirection Hi = LimitDirection.High;

    /// <summary>Default adult limits (issue 6; Mindray/Edan defaults), baseline drops (Bijker) and delays (Görges 2009).</summary>
    public static AlarmProfile DefaultAdult { get; } = new(
        DefaultAdultName,
        [
            new(Sign.Hr, Lo, M, 50), new(Sign.Hr, Lo, H, 40), new(Sign.Hr, Hi, M, 120), new(Sign.Hr, Hi, H, 150),
            new(Sign.Spo2, Lo, M, 90), new(Sign.Spo2, Lo, H, 85, Inclusive: true),
            new(Sign.Rr, Lo, M, 10), new(Sign.Rr, Lo, H, 8), new(Sign.Rr, Hi, M, 30),
            new(Sign.NibpSys, Lo, M, 90), new(Sign.NibpSys, Lo, H, 80), new(Sign.NibpSys, Hi, M, 160), new(Sign.NibpSys, Hi, H, 180, Inclusive: true),
            new(Sign.NibpDia, Lo, M, 50), new(Sign.NibpDia, Hi, M, 90), new(Sign.NibpDia, Hi, H, 110, Inclusive: true),
            new(Sign.NibpMap, Lo, M, 60), new(Sign.NibpMap, Lo, H, 50), new(Sign.NibpMap, Hi, M, 110),
            new(Sign.Temp, Lo, L, 36.0), new(Sign.Temp, Hi, L, 38.0), new(Sign.Temp, Hi, M, 39.0),
        ],
        [
            new(Sign.NibpSys, Lo, M, 20, 20), new(Sign.NibpSys, Lo, H, 30, null),
            new(Sign.NibpMap, Lo, M, 20, null),
            new(Sign.NibpSys, Hi, M, 20, 30),
            new(Sign.Hr, Lo, M, 20, null), new(Sign.Hr, Hi, M, 30, 30),
            new(Sign.Rr, Lo, M, 30, null),
        ],
        [new(Sign.Hr, 25, TimeSpan.FromMinutes(5), M)],
        [
            new(Sign.Hr, TimeSpan.FromSeconds(10), 2, TimeSpan.FromSeconds(10)),
            new(Sign.Pr, TimeSpan.FromSeconds(10), 2, TimeSpan.FromSeconds(10)),
            new(Sign.Spo2, TimeSpan.FromSeconds(15), 1, TimeSpan.FromSeconds(10)),
            new(Sign.Rr, TimeSpan.FromSeconds(30), 1, TimeSpan.FromSeconds(15)),
            new(Sign.Temp, TimeSpan.FromSeconds(60), 0.1, TimeSpan.FromSeconds(30)),

            // NIBP is episodic: each cuff reading is judged when it arrives, so no delay and no clear time; an alarm
            // clears only on a reading back inside by 5 mmHg (the mean error ISO 81060-2 allows a cuff), so readings
            // hovering at a limit (88, 92, 88, ...) raise once and do not flap.
            new(Sign.NibpSys, TimeSpan.Zero, NibpClearMargin, TimeSpan.Zero),
            new(Sign.NibpDia, TimeSpan.Zero, NibpClearMargin, TimeSpan.Zero),
            new(Sign.NibpMap, TimeSpan.Zero, NibpClearMargin, TimeSpan.Zero),
        ],
        []);

    /// <summary>
    /// MgSO4 infusion: the adult profile with RR &lt;12 high and 12-14 medium, SpO2 &lt;94 medium, and
    /// prompts for the checks the gateway cannot measure (NHS GGC, KEMH WA, Pfizer label).
    /// </summary>
    public static AlarmProfile MgSo4 { get; } = DefaultAdult with
    {
        Name = MgSo4Name,
        Limits =
        [
            .. DefaultAdult.Limits.Where(b => !(b.Sign == Sign.Rr && b.Direction == Lo) && !(b.Sign == Sign.Spo2 && b.Priority == M)),
            new(Sign.Rr, Lo, H, 12),
            new(Sign.Rr, Lo, M, 14, Inclusive: true),
            new(Sign.Spo2, Lo, M, 94),
        ],
        // Apnea (RR below the high-priority limit, RR 0 included) alarms after 20 s instead of the RR delay of 30 s:
        // monitors give apnea its own, shorter delay (Mindray offers 10-40 s).
        Timing =
        [
            .. DefaultAdult.Timing.Where(t => t.Sign != Sign.Rr),
            DefaultAdult.TimingFor(Sign.Rr) with { HighPriorityDelay = TimeSpan.FromSeconds(20) },
        ],
        Checks =
        [
            new("patellar_reflex", "Check patellar reflexes"),
            new("urine_output", "Check urine output (> 25-30 mL/h)"),
            new("consciousness", "Check level of consciousness"),
        ],
    };

    /// <summary>Both built-in profiles.</summary>
    public static IReadOnlyList<AlarmProfile> BuiltIn { get; } = [DefaultAdult, MgSo4];
}
