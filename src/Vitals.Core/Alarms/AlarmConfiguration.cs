using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>The layer a configuration change applies to.</summary>
public enum ConfigScope
{
    /// <summary>A named profile (affects every chair using it).</summary>
    Profile,

    /// <summary>One chair's overrides on top of its profile.</summary>
    Chair,

    /// <summary>One infusion session's overrides on top of its chair's.</summary>
    Session,

    /// <summary>Engine-wide timing (re-announce, escalation, pause, feed loss).</summary>
    Engine,
}

/// <summary>An audit record of one accepted configuration change. Pure data; the host appends it to the audit log.</summary>
/// <param name="Version">Configuration version after the change.</param>
/// <param name="User">Who changed it.</param>
/// <param name="At">When.</param>
/// <param name="Scope">Which layer.</param>
/// <param name="Target">Profile name, chair id or session id ("engine" for engine timing).</param>
/// <param name="Key">Configuration key, for example <c>hr.low.medium</c>.</param>
/// <param name="OldValue">Value before, or null when unset.</param>
/// <param name="NewValue">Value after, or null when removed.</param>
public sealed record ConfigChange(long Version, string User, DateTimeOffset At, ConfigScope Scope, string Target, string Key, string? OldValue, string? NewValue);

/// <summary>Outcome of a configuration change: either errors naming the field, or the audit record.</summary>
/// <param name="Errors">Validation errors; empty when the change was applied.</param>
/// <param name="Change">The audit record when applied.</param>
public sealed record ConfigResult(IReadOnlyList<string> Errors, ConfigChange? Change)
{
    /// <summary>True when the change was validated and applied.</summary>
    public bool Ok => Errors.Count == 0;

    internal static ConfigResult Fail(params string[] errors) => new(errors, null);
}

/// <summary>
/// Alarm configuration: profiles, then per-chair overrides, then per-session overrides (held on the
/// <see cref="InfusionSession"/>). Every accepted change is validated, bumps <see cref="Version"/> and returns a
/// <see cref="ConfigChange"/>. Not thread-safe: the engine's single caller owns it.
/// </summary>
public sealed class AlarmConfiguration
{
    private readonly Dictionary<string, AlarmProfile> profiles = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> chairProfiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<string, double>> chairOverrides = new(StringComparer.Ordinal);

    /// <summary>Creates a configuration with <paramref name="profiles"/> (or the built-in ones). Throws when any is invalid.</summary>
    public AlarmConfiguration(IEnumerable<AlarmProfile>? profiles = null, AlarmTiming? timing = null)
    {
        foreach (var profile in profiles ?? AlarmProfiles.BuiltIn)
        {
            var errors = AlarmProfileValidator.Validate(profile);
            if (errors.Count > 0)
            {
                throw new ArgumentException($"Alarm profile '{profile.Name}' is invalid: {string.Join("; ", errors)}", nameof(profiles));
            }

            this.profiles[profile.Name] = profile;
        }

        Timing = timing ?? new AlarmTiming();
        var timingErrors = AlarmProfileValidator.Validate(Timing);
        if (timingErrors.Count > 0)
        {
            throw new ArgumentException($"Alarm timing is invalid: {string.Join("; ", timingErrors)}", nameof(timing));
        }

        DefaultProfileName = this.profiles.ContainsKey(AlarmProfiles.DefaultAdultName) ? AlarmProfiles.DefaultAdultName : this.profiles.Keys.First();
    }

    /// <summary>
    /// Incremented on every accepted change (all of them pass through <see cref="Accepted"/>). The engine keeps each chair's
    /// resolved rules until it moves: a change that skipped it would leave chairs judged by the old limits.
    /// </summary>
    public long Version { get; private set; }

    /// <summary>Engine-wide timing.</summary>
    public AlarmTiming Timing { get; private set; }

    /// <summary>Profile used by chairs with no profile of their own.</summary>
    public string DefaultProfileName { get; }

    /// <summary>All profiles.</summary>
    public IReadOnlyList<AlarmProfile> Profiles => [.. profiles.Values];

    /// <summary>The profile called <paramref name="name"/>, if any.</summary>
    public AlarmProfile? FindProfile(string name) => profiles.GetValueOrDefault(name);

    /// <summary>The profile name a chair is set to, or null for the default.</summary>
    public string? ChairProfile(string chair) => chairProfiles.GetValueOrDefault(chair);

    /// <summary>A chair's overrides (key to value).</summary>
    public IReadOnlyDictionary<string, double> ChairOverrides(string chair) =>
        chairOverrides.TryGetValue(chair, out var o) ? o : NoOverrides;

    // Shared, never changed: Resolve asks for a chair's overrides with every reading.
    private static readonly SortedDictionary<string, double> NoOverrides = new(StringComparer.Ordinal);

    /// <summary>
    /// The effective profile of <paramref name="chair"/>: the session's profile (magnesium sessions default to MgSO4),
    /// else the chair's, else the default; then chair overrides; then session overrides.
    /// </summary>
    public AlarmProfile Resolve(string chair, InfusionSession? session)
    {
        var name = session?.Profile
            ?? (session is { IsMagnesium: true } && profiles.ContainsKey(AlarmProfiles.MgSo4Name) ? AlarmProfiles.MgSo4Name : null)
            ?? ChairProfile(chair)
            ?? DefaultProfileName;
        var profile = FindProfile(name) ?? profiles[DefaultProfileName];
        profile = ApplyAll(profile, ChairOverrides(chair));
        return session?.Overrides is { } sessionOverrides ? ApplyAll(profile, sessionOverrides) : profile;
    }

    /// <summary>Sets (or with null removes) one key of a named profile.</summary>
    public ConfigResult SetProfileValue(string profileName, string key, double? value, string user, DateTimeOffset at)
    {
        if (FindProfile(profileName) is not { } profile)
        {
            return ConfigResult.Fail($"profile: unknown profile '{profileName}'");
        }

        var (candidate, error) = Apply(profile, key, value, allowRemove: true);
        if (error is not null)
        {
            return ConfigResult.Fail(error);
        }

        var errors = AlarmProfileValidator.Validate(candidate!);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        var old = Read(profile, key);
        profiles[profile.Name] = candidate!;
        return Accepted(user, at, ConfigScope.Profile, profile.Name, key, old, Format(value));
    }

    /// <summary>Adds or replaces a whole profile.</summary>
    public ConfigResult PutProfile(AlarmProfile profile, string user, DateTimeOffset at)
    {
        var errors = AlarmProfileValidator.Validate(profile);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        var existed = profiles.ContainsKey(profile.Name);
        profiles[profile.Name] = profile;
        return Accepted(user, at, ConfigScope.Profile, profile.Name, "profile", existed ? "replaced" : null, Describe(profile));
    }

    /// <summary>Sets the profile a chair uses (null: the default).</summary>
    public ConfigResult SetChairProfile(string chair, string? profileName, string user, DateTimeOffset at)
    {
        if (profileName is not null && FindProfile(profileName) is null)
        {
            return ConfigResult.Fail($"chair.profile: unknown profile '{profileName}'");
        }

        var old = ChairProfile(chair);
        var candidateName = profileName ?? DefaultProfileName;
        var errors = AlarmProfileValidator.Validate(ApplyAll(profiles[candidateName], ChairOverrides(chair)));
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        if (profileName is null)
        {
            chairProfiles.Remove(chair);
        }
        else
        {
            chairProfiles[chair] = profiles[profileName].Name;
        }

        return Accepted(user, at, ConfigScope.Chair, chair, "profile", old, profileName);
    }

    /// <summary>Sets (or with null removes) one override of a chair.</summary>
    public ConfigResult SetChairOverride(string chair, string key, double? value, string user, DateTimeOffset at)
    {
        var current = ChairOverrides(chair);
        var candidate = new SortedDictionary<string, double>(current.ToDictionary(), StringComparer.Ordinal);
        if (value is { } v)
        {
            candidate[key] = v;
        }
        else
        {
            candidate.Remove(key);
        }

        var baseProfile = profiles[ChairProfile(chair) ?? DefaultProfileName];
        var errors = ValidateOverrides(baseProfile, candidate);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        // The audit shows the value in force before, whether it came from an override or the profile.
        var old = current.TryGetValue(key, out var o) ? Format(o) : Read(Resolve(chair, null), key);
        chairOverrides[chair] = candidate;
        return Accepted(user, at, ConfigScope.Chair, chair, key, old, Format(value));
    }

    /// <summary>Sets one engine-wide timing value in seconds (keys: reannounce, escalate_after, pause_max, feed_lost_medium, feed_lost_high, signal_lost, temp_signal_lost, nibp_overdue_grace, nibp_cycle, mg.max_rate, mg.max_bolus).</summary>
    public ConfigResult SetTimingValue(string key, double value, string user, DateTimeOffset at)
    {
        if (OutOfRange(key, value) is { } error)
        {
            return ConfigResult.Fail(error);
        }

        var s = TimeSpan.FromSeconds(value);
        AlarmTiming? candidate = key switch
        {
            "reannounce" => Timing with { Reannounce = s },
            "escalate_after" => Timing with { EscalateAfter = s },
            "pause_max" => Timing with { MaxPause = s },
            "feed_lost_medium" => Timing with { FeedLostMedium = s },
            "feed_lost_high" => Timing with { FeedLostHigh = s },
            "signal_lost" => Timing with { SignalLost = s },
            "temp_signal_lost" => Timing with { TempSignalLost = s },
            "nibp_overdue_grace" => Timing with { NibpOverdueGrace = s },
            "nibp_cycle" => Timing with { DefaultNibpCycle = s },
            "mg.max_rate" => Timing with { Magnesium = Timing.Magnesium with { MaxRateGramsPerHour = value } },
            "mg.max_bolus" => Timing with { Magnesium = Timing.Magnesium with { MaxBolusGrams = value } },
            _ => null,
        };
        if (candidate is null)
        {
            return ConfigResult.Fail($"{key}: unknown engine setting");
        }

        var errors = AlarmProfileValidator.Validate(candidate);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        var old = ReadTiming(key);
        Timing = candidate;
        return Accepted(user, at, ConfigScope.Engine, "engine", key, old, Format(value));
    }

    /// <summary>Validates session overrides for a session at <paramref name="chair"/>; used by the engine before accepting them.</summary>
    internal IReadOnlyList<string> ValidateSession(string chair, InfusionSession session) =>
        AlarmProfileValidator.Validate(Resolve(chair, session)) is { Count: > 0 } errors
            ? errors
            : session.Overrides is { } o ? ValidateKeys(o) : [];

    /// <summary>Records an accepted change made elsewhere (session overrides live on the session).</summary>
    internal ConfigResult Accepted(string user, DateTimeOffset at, ConfigScope scope, string target, string key, string? old, string? value)
    {
        Version++;
        return new ConfigResult([], new ConfigChange(Version, user, at, scope, target, key, old, value));
    }

    /// <summary>Applies one key to a profile, returning the new profile or an error naming the key.</summary>
    internal static (AlarmProfile? Profile, string? Error) Apply(AlarmProfile profile, string key, double? value, bool allowRemove)
    {
        var parts = key.Split('.');
        if (parts.Length is < 2 or > 3 || !Signs.TryParse(parts[0], out var sign))
        {
            return (null, $"{key}: unknown key (expected <sign>.<low|high>.<priority>, <sign>.delay, <sign>.delay_high, <sign>.clear_margin or <sign>.clear_time)");
        }

        if (value is { } given && OutOfRange(key, given) is { } range)
        {
            return (null, range);
        }

        if (parts.Length == 3)
        {
            if (parts[1] is not ("low" or "high"))
            {
                return (null, $"{key}: direction must be low or high");
            }

            if (!TryParsePriority(parts[2], out var priority))
            {
                return (null, $"{key}: priority must be low, medium or high");
            }

            var direction = parts[1] == "low" ? LimitDirection.Low : LimitDirection.High;
            var existing = profile.Limits.FirstOrDefault(b => b.Key == key);
            var others = profile.Limits.Where(b => b.Key != key);
            if (value is not { } threshold)
            {
                return allowRemove ? (profile with { Limits = [.. others] }, null) : (null, $"{key}: a value is required");
            }

            var band = existing is null ? new LimitBand(sign, direction, priority, threshold) : existing with { Threshold = threshold };
            return (profile with { Limits = [.. others, band] }, null);
        }

        if (value is not { } number)
        {
            return (null, $"{key}: a value is required");
        }

        var timing = profile.TimingFor(sign);
        SignTiming? updated = parts[1] switch
        {
            "delay" => timing with { ConditionDelay = TimeSpan.FromSeconds(number) },
            "clear_margin" => timing with { ClearMargin = number },
            "clear_time" => timing with { ClearTime = TimeSpan.FromSeconds(number) },
            "delay_high" => timing with { HighPriorityDelay = TimeSpan.FromSeconds(number) },
            _ => null,
        };
        return updated is null
            ? (null, $"{key}: unknown setting '{parts[1]}' (expected delay, delay_high, clear_margin or clear_time)")
            : (profile with { Timing = [.. profile.Timing.Where(t => t.Sign != sign), updated] }, null);
    }

    /// <summary>Rejects values no setting can take (NaN, infinities, more seconds than a TimeSpan holds) before any conversion.</summary>
    private static string? OutOfRange(string key, double value) =>
        double.IsFinite(value) && Math.Abs(value) <= MaxSettingValue ? null : $"{key}: {value.ToString(CultureInfo.InvariantCulture)} is out of range";

    // A year in seconds: above every limit the validator accepts, far below TimeSpan's range.
    private const double MaxSettingValue = 365 * 86_400;

    private static AlarmProfile ApplyAll(AlarmProfile profile, IReadOnlyDictionary<string, double> overrides)
    {
        if (overrides.Count == 0)
        {
            return profile; // the usual case, per reading: no enumerator to allocate
        }

        foreach (var (key, value) in overrides)
        {
            // Overrides were validated when set; a key that no longer applies is skipped rather than failing a chair.
            if (Apply(profile, key, value, allowRemove: false) is ({ } applied, null))
            {
                profile = applied;
            }
        }

        return profile;
    }

    private static IReadOnlyList<string> ValidateKeys(IReadOnlyDictionary<string, double> overrides)
    {
        var errors = new List<string>();
        foreach (var (key, value) in overrides)
        {
            if (Apply(AlarmProfiles.DefaultAdult, key, value, allowRemove: false).Error is { } error)
            {
                errors.Add(error);
            }
        }

        return errors;
    }

    private static IReadOnlyList<string> ValidateOverrides(AlarmProfile baseProfile, IReadOnlyDictionary<string, double> overrides)
    {
        var keyErrors = ValidateKeys(overrides);
        return keyErrors.Count > 0 ? keyErrors : AlarmProfileValidator.Validate(ApplyAll(baseProfile, overrides));
    }

    private static bool TryParsePriority(string text, out AlarmPriority priority)
    {
        priority = text switch
        {
            "low" => AlarmPriority.Low,
            "medium" => AlarmPriority.Medium,
            "high" => AlarmPriority.High,
            _ => 0,
        };
        return priority != 0;
    }

    internal static string? Read(AlarmProfile profile, string key) => profile.Values().TryGetValue(key, out var v) ? Format(v) : null;

    private string? ReadTiming(string key) => Timing.Values().TryGetValue(key, out var v) ? Format(v) : null;

    private static string Describe(AlarmProfile p) =>
        $"{p.Limits.Count} limits, {p.BaselineChanges.Count} baseline rules, {p.RateRules.Count} rate rules, {p.Checks.Count} checks";

    internal static string? Format(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture);
}
