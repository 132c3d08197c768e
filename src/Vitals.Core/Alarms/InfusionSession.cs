using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// One infusion at one chair. Holds a pseudonym, never a patient's name: the gateway has no use for identity
/// and must not log it.
/// </summary>
/// <param name="Id">Session id.</param>
/// <param name="Chair">Chair id.</param>
/// <param name="PatientPseudonym">Opaque patient token (letters, digits, '-', '_'; no spaces).</param>
/// <param name="Drug">Drug name, for example <c>magnesium sulfate</c>.</param>
/// <param name="DoseGrams">Total dose in grams, if known.</param>
/// <param name="RateGramsPerHour">Entered maintenance rate in g/h, if any.</param>
/// <param name="StartedAt">When the infusion started; readings before it are pre-infusion (baseline).</param>
/// <param name="StoppedAt">When it stopped, if it did.</param>
/// <param name="Profile">Alarm profile name; when null, magnesium drugs use the MgSO4 profile and others the chair's.</param>
/// <param name="BolusGrams">Loading bolus in grams, if any.</param>
/// <param name="BolusDuration">Time the bolus is given over, if any.</param>
/// <param name="NibpCycle">NIBP cycle of the chair's monitor during this infusion, if known.</param>
/// <param name="LoadingDuration">Length of the loading phase (checks every 15 min during it), if known.</param>
/// <param name="Overrides">Per-session limit overrides (configuration keys to values).</param>
public sealed record InfusionSession(
    string Id,
    string Chair,
    string PatientPseudonym,
    string Drug,
    double? DoseGrams,
    double? RateGramsPerHour,
    DateTimeOffset StartedAt,
    DateTimeOffset? StoppedAt = null,
    string? Profile = null,
    double? BolusGrams = null,
    TimeSpan? BolusDuration = null,
    TimeSpan? NibpCycle = null,
    TimeSpan? LoadingDuration = null,
    IReadOnlyDictionary<string, double>? Overrides = null)
{
    /// <summary>True for magnesium sulfate (and other magnesium salts).</summary>
    public bool IsMagnesium =>
        Drug.Contains("magnesium", StringComparison.OrdinalIgnoreCase) || Drug.Contains("mgso4", StringComparison.OrdinalIgnoreCase);

    /// <summary>True while the infusion runs at <paramref name="now"/>.</summary>
    public bool IsRunningAt(DateTimeOffset now) => StartedAt <= now && (StoppedAt is not { } stop || now < stop);

    /// <summary>
    /// True for a usable pseudonym: 1-64 letters, digits, '-' or '_'. A pseudonym is a token; a space is the surest
    /// sign someone typed a name.
    /// </summary>
    public static bool IsPseudonymToken(string? text) =>
        !string.IsNullOrEmpty(text) && text.Length <= 64 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Checks the fields that must hold before a session is accepted; returns messages naming the field.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Id))
        {
            errors.Add("session.id: required");
        }

        if (string.IsNullOrWhiteSpace(Chair))
        {
            errors.Add("session.chair: required");
        }

        if (!IsPseudonymToken(PatientPseudonym))
        {
            errors.Add("session.patient_pseudonym: must be a token of letters, digits, '-' or '_' (never a name)");
        }

        if (string.IsNullOrWhiteSpace(Drug))
        {
            errors.Add("session.drug: required");
        }

        if (DoseGrams is < 0 || RateGramsPerHour is < 0 || BolusGrams is < 0)
        {
            errors.Add("session.dose: dose, rate and bolus must not be negative");
        }

        if (StoppedAt is { } stop && stop < StartedAt)
        {
            errors.Add("session.stopped_at: must not be before started_at");
        }

        return errors;
    }
}

/// <summary>Magnesium rate limits a clinic configures (clinic pages cite a 3 g/h cap and boluses of at most 6 g over 15-20 min).</summary>
public sealed record MagnesiumLimits
{
    /// <summary>Highest entered rate in g/h before a warning.</summary>
    public double MaxRateGramsPerHour { get; init; } = 3;

    /// <summary>Largest bolus in g before a warning.</summary>
    public double MaxBolusGrams { get; init; } = 6;

    /// <summary>Shortest time a bolus may be given over.</summary>
    public TimeSpan MinBolusDuration { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>Pure checks of the entered magnesium rate and bolus.</summary>
public static class MagnesiumChecks
{
    /// <summary>Warnings for <paramref name="session"/> against <paramref name="limits"/>; empty when fine or not magnesium.</summary>
    public static IReadOnlyList<string> Check(InfusionSession session, MagnesiumLimits limits)
    {
        if (!session.IsMagnesium)
        {
            return [];
        }

        var warnings = new List<string>();
        var c = CultureInfo.InvariantCulture;
        if (session.RateGramsPerHour is { } rate && rate > limits.MaxRateGramsPerHour)
        {
            warnings.Add(string.Format(c, "Magnesium rate {0:0.##} g/h exceeds the configured maximum {1:0.##} g/h", rate, limits.MaxRateGramsPerHour));
        }

        if (session.BolusGrams is { } bolus && bolus > limits.MaxBolusGrams)
        {
            warnings.Add(string.Format(c, "Magnesium bolus {0:0.##} g exceeds the configured maximum {1:0.##} g", bolus, limits.MaxBolusGrams));
        }

        if (session.BolusGrams is > 0 && session.BolusDuration is { } over && over < limits.MinBolusDuration)
        {
            warnings.Add(string.Format(c, "Magnesium bolus given over {0:0.#} min, faster than the configured minimum {1:0.#} min", over.TotalMinutes, limits.MinBolusDuration.TotalMinutes));
        }

        return warnings;
    }
}
