using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Api;

/// <summary>
/// Alarm handling and infusion sessions for nurses (and admins): acknowledge, audio pause, sessions, baseline
/// confirmation and nursing checks. Every action is audited and pushed to dashboards as a <c>status</c> event.
/// </summary>
public static class NurseApi
{
    /// <summary>Longest pause a request may ask for; the engine caps the grant at its own maximum (2 min by default).</summary>
    public const int MaxPauseRequestSeconds = 3600;

    /// <summary>SSE event type carrying a <see cref="ChairStatusView"/> after every nurse action.</summary>
    public const string StatusEvent = "status";

    /// <summary>Maps the nurse endpoints under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapNurseApi(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        // Status is read-only: wall displays show sessions and baselines too.
        var read = app.MapGroup("/api").RequireRead(options).WithTags("Nurse");
        read.MapGet("/chair-status", AllStatus);
        read.MapGet("/chairs/{id}/status", Status);
        read.MapGet("/chairs/{id}/baseline", Baseline);
        read.MapGet("/pause", AllChairsPause);

        var nurse = app.MapGroup("/api").RequireAuthorization(Policies.Nurse).RequireAntiforgery().WithTags("Nurse");
        nurse.MapPost("/chairs/{id}/alarms/{rule}/acknowledge", Acknowledge);
        nurse.MapPost("/chairs/{id}/acknowledge", AcknowledgeChair);
        nurse.MapPost("/chairs/{id}/pause", PauseChair);
        nurse.MapPost("/chairs/{id}/resume", ResumeChair);
        nurse.MapPost("/pause", PauseAll);
        nurse.MapPost("/resume", ResumeAll);
        nurse.MapPost("/chairs/{id}/session", StartSession);
        nurse.MapDelete("/chairs/{id}/session", StopSession);
        nurse.MapPost("/chairs/{id}/baseline", ConfirmBaseline);
        nurse.MapPost("/chairs/{id}/checks/{check}/confirm", ConfirmCheck);
        return app;
    }

    private static Ok<List<ChairStatusView>> AllStatus(AlarmService alarms, LiveState live) =>
        TypedResults.Ok(alarms.Read((e, now) => live.ChairIds.Select(id => ChairStatusView.From(e.StatusOf(id, now))).ToList()));

    private static Results<Ok<ChairStatusView>, NotFound> Status(string id, AlarmService alarms, LiveState live) =>
        live.ChairIds.Contains(id) ? TypedResults.Ok(StatusOf(alarms, id)) : TypedResults.NotFound();

    /// <summary>The all-chairs audio pause in force, so a reloaded page shows its countdown instead of offering to pause again.</summary>
    private static Ok<PauseView> AllChairsPause(AlarmService alarms) =>
        TypedResults.Ok(new PauseView(AlarmEngine.AllChairs, alarms.Read((e, now) => (int)Math.Ceiling(e.PauseRemaining(AlarmEngine.AllChairs, now).TotalSeconds))));

    private static Results<Ok<BaselineStatus>, NotFound> Baseline(string id, AlarmService alarms, LiveState live) =>
        live.ChairIds.Contains(id) ? TypedResults.Ok(alarms.Read((e, now) => e.GetBaselineStatus(id, now))) : TypedResults.NotFound();

    private static async Task<Results<Ok<AcknowledgeView>, NotFound, ProblemHttpResult>> Acknowledge(
        string id, string rule, HttpContext http, AlarmService alarms, LiveState live)
    {
        // Gateway faults (store, forwarding) sit on the engine's "gateway" chair and are acknowledged like any other.
        if (!live.ChairIds.Contains(id) && id != Core.Alarms.AlarmEngine.GatewayChair)
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        var exists = alarms.Read((e, _) => e.Alarms.Any(a => a.Chair == id && a.Rule == rule));
        if (!exists)
        {
            return TypedResults.Problem($"rule: chair {id} has no active alarm '{rule}'.", statusCode: StatusCodes.Status404NotFound, title: "No such alarm");
        }

        var done = await CommandAsync(
            http, alarms, [id], (e, now, events) => e.Acknowledge(id, rule, user, now, events), done => done ? ("alarm.acknowledged", id, rule) : null).ConfigureAwait(false);
        return TypedResults.Ok(new AcknowledgeView(done ? 1 : 0, StatusOf(alarms, id)));
    }

    private static async Task<Results<Ok<AcknowledgeView>, NotFound>> AcknowledgeChair(string id, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        var count = await CommandAsync(
            http, alarms, [id], (e, now, events) => e.AcknowledgeChair(id, user, now, events),
            count => count > 0 ? ("alarm.acknowledged_all", id, string.Create(CultureInfo.InvariantCulture, $"{count} alarm(s)")) : null).ConfigureAwait(false);
        return TypedResults.Ok(new AcknowledgeView(count, StatusOf(alarms, id)));
    }

    private static async Task<Results<Ok<PauseView>, NotFound, ValidationProblem>> PauseChair(
        string id, PauseRequest? request, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        return await Pause(id, request, http, alarms, live).ConfigureAwait(false);
    }

    private static Task<Results<Ok<PauseView>, NotFound, ValidationProblem>> PauseAll(
        PauseRequest? request, HttpContext http, AlarmService alarms, LiveState live) =>
        Pause(null, request, http, alarms, live);

    private static async Task<Results<Ok<PauseView>, NotFound, ValidationProblem>> Pause(
        string? chair, PauseRequest? request, HttpContext http, AlarmService alarms, LiveState live)
    {
        var seconds = request?.Seconds ?? 120;
        if (seconds is <= 0 or > MaxPauseRequestSeconds)
        {
            return Invalid("seconds", $"Give a pause of 1-{MaxPauseRequestSeconds} s; audio pauses are capped at the configured maximum (2 min by default).");
        }

        var user = http.User.UserName();
        var granted = await CommandAsync(
            http, alarms, chair is null ? live.ChairIds : [chair], (e, now, events) => e.Pause(chair, user, now, TimeSpan.FromSeconds(seconds), events),
            granted => ("audio.paused", chair ?? AlarmEngine.AllChairs, string.Create(CultureInfo.InvariantCulture, $"{granted.TotalSeconds:0} s"))).ConfigureAwait(false);
        return TypedResults.Ok(new PauseView(chair ?? AlarmEngine.AllChairs, (int)Math.Ceiling(granted.TotalSeconds)));
    }

    private static async Task<Results<Ok<PauseView>, NotFound>> ResumeChair(string id, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await Resume(id, http, alarms, live).ConfigureAwait(false));
    }

    private static async Task<Ok<PauseView>> ResumeAll(HttpContext http, AlarmService alarms, LiveState live) =>
        TypedResults.Ok(await Resume(null, http, alarms, live).ConfigureAwait(false));

    private static async Task<PauseView> Resume(string? chair, HttpContext http, AlarmService alarms, LiveState live)
    {
        var user = http.User.UserName();
        await CommandAsync(
            http, alarms, chair is null ? live.ChairIds : [chair],
            (e, now, events) =>
            {
                e.ResumeAudio(chair, user, now, events);
                return 0;
            },
            _ => ("audio.resumed", chair ?? AlarmEngine.AllChairs, null)).ConfigureAwait(false);

        var remaining = chair is null ? TimeSpan.Zero : alarms.Read((e, now) => e.PauseRemaining(chair, now));
        return new PauseView(chair ?? AlarmEngine.AllChairs, (int)Math.Ceiling(remaining.TotalSeconds));
    }

    private static async Task<Results<Ok<SessionView>, NotFound, ValidationProblem, Conflict<ProblemDetailsView>>> StartSession(
        string id, StartSessionRequest request, HttpContext http, AlarmService alarms, LiveState live, TimeProvider time)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var errors = request.Validate();
        var profiles = alarms.Read((e, _) => e.Configuration.Profiles.Select(p => p.Name).ToList());
        if (request.Profile is { } profile && !profiles.Contains(profile, StringComparer.OrdinalIgnoreCase))
        {
            errors["profile"] = [$"Unknown profile '{profile}'. Use one of: {string.Join(", ", profiles)}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = time.GetUtcNow();
        var session = new InfusionSession(
            Id: $"{id}-{now.ToUnixTimeMilliseconds()}",
            Chair: id,
            PatientPseudonym: request.PatientPseudonym!.Trim(),
            Drug: request.Drug!.Trim(),
            DoseGrams: request.DoseGrams,
            RateGramsPerHour: request.RateGramsPerHour,
            StartedAt: now,
            Profile: request.Profile,
            BolusGrams: request.BolusGrams,
            BolusDuration: Minutes(request.BolusMinutes),
            NibpCycle: Minutes(request.NibpCycleMinutes),
            LoadingDuration: Minutes(request.LoadingMinutes));
        IReadOnlyList<string> warnings;
        try
        {
            // The pseudonym stays out of the audit details: the session id is enough to follow it.
            warnings = await CommandAsync(
                http, alarms, [id], (e, at, events) => e.StartSession(session, at, events),
                warnings => ("session.started", id, string.Create(CultureInfo.InvariantCulture,
                    $"session {session.Id}, {session.Drug}, dose {session.DoseGrams?.ToString(CultureInfo.InvariantCulture) ?? "-"} g, rate {session.RateGramsPerHour?.ToString(CultureInfo.InvariantCulture) ?? "-"} g/h, bolus {session.BolusGrams?.ToString(CultureInfo.InvariantCulture) ?? "-"} g{(warnings.Count > 0 ? "; warnings: " + string.Join("; ", warnings) : "")}"))).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return TypedResults.ValidationProblem(ByField(ex.Message.Split(" (Parameter", 2)[0], "session"));
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Conflict(new ProblemDetailsView("Session already running", ex.Message));
        }

        return TypedResults.Ok(new SessionView(session, warnings, StatusOf(alarms, id)));
    }

    private static async Task<Results<Ok<SessionView>, NotFound>> StopSession(string id, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var stopped = await CommandAsync(
            http, alarms, [id], (e, now, events) => e.StopSession(id, now, events), stopped => stopped is null ? null : ("session.stopped", id, $"session {stopped.Id}")).ConfigureAwait(false);
        return stopped is null ? TypedResults.NotFound() : TypedResults.Ok(new SessionView(stopped, [], StatusOf(alarms, id)));
    }

    private static async Task<Results<Ok<ChairStatusView>, NotFound, ValidationProblem, Conflict<ProblemDetailsView>>> ConfirmBaseline(
        string id, BaselineRequest? request, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var entered = request?.ToBaseline();
        if (entered is not null && request!.Validate() is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var user = http.User.UserName();
        BaselineStatus status;
        try
        {
            status = await CommandAsync(
                http, alarms, [id], (e, now, _) => e.ConfirmBaseline(id, user, now, entered),
                status => status is not { State: BaselineState.Confirmed, Baseline: { } b } ? null : ("baseline.confirmed", id, string.Create(CultureInfo.InvariantCulture,
                    $"{(entered is null ? "proposal" : "entered by hand")}: sys {b.Sys:0.#}, dia {b.Dia:0.#}, map {b.Map:0.#}, hr {b.Hr:0.#}, rr {b.Rr:0.#} ({b.NibpReadings} NIBP readings)"))).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return TypedResults.ValidationProblem(ByField(ex.Message.Split(" (Parameter", 2)[0], "baseline"));
        }

        if (status.State != BaselineState.Confirmed)
        {
            return TypedResults.Conflict(new ProblemDetailsView("Baseline not confirmed", status.Message));
        }

        return TypedResults.Ok(StatusOf(alarms, id));
    }

    private static async Task<Results<Ok<ChairStatusView>, NotFound, ProblemHttpResult>> ConfirmCheck(
        string id, string check, HttpContext http, AlarmService alarms, LiveState live)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        var done = await CommandAsync(
            http, alarms, [id], (e, now, events) => e.ConfirmCheck(id, check, user, now, events), done => done ? ("check.confirmed", id, check) : null).ConfigureAwait(false);
        return done
            ? TypedResults.Ok(StatusOf(alarms, id))
            : TypedResults.Problem($"check: chair {id} has no nursing check '{check}' scheduled.", statusCode: StatusCodes.Status404NotFound, title: "No such check");
    }

    private static ChairStatusView StatusOf(AlarmService alarms, string id) => alarms.Read((e, now) => ChairStatusView.From(e.StatusOf(id, now)));

    /// <summary>
    /// Runs a nurse command. Its transitions, its audit entry (<paramref name="audit"/>: action, chair, details; null
    /// for nothing to audit) and the new status of <paramref name="chairs"/> for every dashboard (so other browsers
    /// update without polling) leave the engine together, in commit order. An aborted request stops only the waiting.
    /// </summary>
    private static Task<T> CommandAsync<T>(
        HttpContext http,
        AlarmService alarms,
        IEnumerable<string> chairs,
        Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command,
        Func<T, (string Action, string Chair, string? Details)?> audit)
    {
        var user = http.User.UserName();
        return alarms.RunAsync(
            command,
            (engine, now, result) => new CommandTrail(
                audit(result) is { } a ? new AuditEntry(a.Action, user, a.Chair, a.Details, now) : null,
                [.. chairs.Select(id => new DashboardEvent(StatusEvent, ChairStatusView.From(engine.StatusOf(id, now))))]),
            http.RequestAborted);
    }

    private static TimeSpan? Minutes(double? minutes) => minutes is { } m ? TimeSpan.FromMinutes(m) : null;

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>Engine messages start with the field ("session.drug: required; ..."): key each by that field.</summary>
    internal static Dictionary<string, string[]> ByField(string message, string fallback)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var part in message.Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            var field = colon > 0 ? CamelField(part[..colon]) : fallback;
            result[field] = [.. result.GetValueOrDefault(field, []), part];
        }

        return result;
    }

    private static string CamelField(string key)
    {
        var last = key.StartsWith("session.", StringComparison.Ordinal) ? key["session.".Length..] : key;
        var parts = last.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }

    /// <summary>A chair's alarm picture: alarms (latched and acknowledged included), pause countdown, baseline, checks, session.</summary>
    public sealed record ChairStatusView(
        string Chair,
        IReadOnlyList<ActiveAlarm> Alarms,
        int PauseRemainingSeconds,
        BaselineStatus Baseline,
        IReadOnlyList<CheckDue> ChecksDue,
        InfusionSession? Session,
        IReadOnlyList<string> MagnesiumWarnings)
    {
        /// <summary>Converts the engine's status.</summary>
        public static ChairStatusView From(ChairAlarmStatus s) => new(
            s.Chair,
            [.. s.Alarms.OrderByDescending(a => a.Priority).ThenBy(a => a.RaisedAt)],
            (int)Math.Ceiling(s.PauseRemaining.TotalSeconds),
            s.Baseline,
            s.ChecksDue,
            s.Session,
            s.MagnesiumWarnings);
    }

    /// <summary>How many alarms an acknowledge silenced, and the chair's status after it.</summary>
    public sealed record AcknowledgeView(int Acknowledged, ChairStatusView Status);

    /// <summary>Audio pause request; seconds default to 120 and are capped at the configured maximum.</summary>
    public sealed record PauseRequest(int? Seconds);

    /// <summary>The audio pause in force after a pause or resume (<c>*</c>: all chairs).</summary>
    public sealed record PauseView(string Chair, int RemainingSeconds);

    /// <summary>A session with its magnesium warnings and the chair's status.</summary>
    public sealed record SessionView(InfusionSession Session, IReadOnlyList<string> Warnings, ChairStatusView Status);

    /// <summary>A problem body for conflicts (RFC 9457 fields).</summary>
    public sealed record ProblemDetailsView(string Title, string Detail);

    /// <summary>Start of an infusion session. The patient is a pseudonym token, never a name.</summary>
    public sealed record StartSessionRequest(
        string? PatientPseudonym,
        string? Drug,
        double? DoseGrams,
        double? RateGramsPerHour,
        double? BolusGrams,
        double? BolusMinutes,
        string? Profile,
        double? LoadingMinutes,
        double? NibpCycleMinutes)
    {
        /// <summary>Field errors keyed by the JSON field name.</summary>
        public Dictionary<string, string[]> Validate()
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (!InfusionSession.IsPseudonymToken(PatientPseudonym?.Trim()))
            {
                errors["patientPseudonym"] = ["Enter the patient's pseudonym token (letters, digits, '-' or '_', no spaces), never a name."];
            }

            if (string.IsNullOrWhiteSpace(Drug) || Drug.Length > 64)
            {
                errors["drug"] = ["Enter the drug (1-64 characters), for example magnesium sulfate."];
            }

            Range(errors, "doseGrams", DoseGrams, 0, 100, "g");
            Range(errors, "rateGramsPerHour", RateGramsPerHour, 0, 50, "g/h");
            Range(errors, "bolusGrams", BolusGrams, 0, 50, "g");
            Range(errors, "bolusMinutes", BolusMinutes, 1, 240, "min");
            Range(errors, "loadingMinutes", LoadingMinutes, 1, 240, "min");
            Range(errors, "nibpCycleMinutes", NibpCycleMinutes, 1, 120, "min");
            return errors;
        }

        private static void Range(Dictionary<string, string[]> errors, string field, double? value, double min, double max, string unit)
        {
            if (value is { } v && (double.IsNaN(v) || v < min || v > max))
            {
                errors[field] = [string.Create(CultureInfo.InvariantCulture, $"Must be between {min} and {max} {unit}.")];
            }
        }
    }

    /// <summary>Baseline confirmation: empty confirms the proposal; values entered by hand replace it.</summary>
    public sealed record BaselineRequest(double? Sys, double? Dia, double? Map, double? Hr, double? Rr)
    {
        /// <summary>The entered baseline, or null when nothing was entered (confirm the proposal).</summary>
        public Baseline? ToBaseline() =>
            Sys is null && Dia is null && Map is null && Hr is null && Rr is null ? null : new Baseline(Sys, Dia, Map, Hr, Rr, 0);

        /// <summary>Field errors: each value inside its sign's physiological bounds.</summary>
        public Dictionary<string, string[]> Validate()
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var outside = ToBaseline()?.OutOfBounds() ?? [];
            foreach (var (field, sign) in new[] { ("sys", Sign.NibpSys), ("dia", Sign.NibpDia), ("map", Sign.NibpMap), ("hr", Sign.Hr), ("rr", Sign.Rr) })
            {
                if (outside.Contains(sign))
                {
                    errors[field] = [string.Create(CultureInfo.InvariantCulture, $"Must be above 0 and at most {sign.Info().HardMax}.")];
                }
            }

            return errors;
        }
    }
}
