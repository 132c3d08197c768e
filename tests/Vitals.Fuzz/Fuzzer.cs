using System.Diagnostics;
using System.Security.Cryptography;

namespace Vitals.Fuzz;

/// <summary>How long and how to fuzz one target.</summary>
public sealed record FuzzOptions
{
    /// <summary>Stop after this long.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop after this many inputs.</summary>
    public long MaxInputs { get; init; } = long.MaxValue;

    /// <summary>Seed of the mutation generator; the same seed and input count replay the same inputs.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Where minimized reproducers are written (a folder per target); null: not written.</summary>
    public string? SaveDirectory { get; init; }

    /// <summary>Failure signatures already reported (shared across runs, so one defect is minimized and reported once).</summary>
    public ISet<string>? KnownSignatures { get; init; }

    /// <summary>Stop after this many distinct failures.</summary>
    public int MaxFindings { get; init; } = 5;
}

/// <summary>A distinct failure: what broke, and the smallest input found that still breaks it the same way.</summary>
public sealed record FuzzFinding(string Target, string Signature, string Message, byte[] Input, string? SavedPath);

/// <summary>What a run did.</summary>
public sealed record FuzzReport(string Target, long Inputs, TimeSpan Elapsed, int CorpusSize, IReadOnlyList<FuzzFinding> Findings)
{
    /// <summary>Inputs run per second.</summary>
    public double InputsPerSecond => Elapsed > TimeSpan.Zero ? Inputs / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// A mutation fuzzer: starts from the target's seed corpus, mutates a random corpus entry, runs it, and keeps inputs
/// that reach an outcome not seen before (cheap feedback without coverage instrumentation). Each distinct failure is
/// minimized (chunks removed while it still fails the same way) and saved as a reproducer.
/// </summary>
public static class Fuzzer
{
    private const int MaxCorpus = 4096;
    private const int MinimizeBudget = 3000;

    /// <summary>Fuzzes <paramref name="target"/> until the duration, input count or finding limit is reached.</summary>
    public static FuzzReport Run(FuzzTarget target, FuzzOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var mutator = new Mutator(random, target.Dictionary, target.MaxInputBytes);
        var findings = new List<FuzzFinding>();
        var signatures = options.KnownSignatures ?? new HashSet<string>(StringComparer.Ordinal);
        var outcomes = new HashSet<string>(StringComparer.Ordinal);
        var corpus = new List<byte[]>();
        long inputs = 0;

        void Try(byte[] input, bool keep)
        {
            inputs++;
            var failure = Failure(target, input, out var outcome);
            if (failure is null)
            {
                if ((outcomes.Add(outcome) || keep) && corpus.Count < MaxCorpus)
                {
                    corpus.Add(input);
                }

                return;
            }

            var signature = Signature(failure);
            if (signatures.Add(signature))
            {
                var minimized = Minimize(target, input, signature);
                var message = Failure(target, minimized, out _)?.Message ?? failure.Message;
                findings.Add(new FuzzFinding(target.Name, signature, message, minimized, Save(options.SaveDirectory, target.Name, minimized)));
            }
        }

        foreach (var seed in target.Seeds())
        {
            Try(seed, keep: true);
        }

        if (corpus.Count == 0)
        {
            corpus.Add([]);
        }

        while (clock.Elapsed < options.Duration && inputs < options.MaxInputs && findings.Count < options.MaxFindings)
        {
            for (var i = 0; i < 64 && inputs < options.MaxInputs; i++)
            {
                Try(mutator.Mutate(corpus[random.Next(corpus.Count)], corpus[random.Next(corpus.Count)]), keep: false);
            }
        }

        return new FuzzReport(target.Name, inputs, clock.Elapsed, corpus.Count, findings);
    }

    /// <summary>Runs one input; the exception it failed with, or null (then <paramref name="outcome"/> says what happened).</summary>
    public static Exception? Failure(FuzzTarget target, byte[] input, out string outcome)
    {
        ArgumentNullException.ThrowIfNull(target);
        try
        {
            outcome = target.Run(input);
            return null;
        }
#pragma warning disable CA1031 // Any exception a codec throws on bad input is the finding.
        catch (Exception e)
#pragma warning restore CA1031
        {
            outcome = string.Empty;
            return e;
        }
    }

    /// <summary>What kind of failure: the exception type and where it was thrown, or the broken invariant.</summary>
    public static string Signature(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure is InvariantViolation)
        {
            return "invariant: " + Invariants.Outcome(failure.Message);
        }

        var frame = failure.StackTrace?.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;
        var at = frame.IndexOf(" in ", StringComparison.Ordinal);
        return $"{failure.GetType().Name} {(at > 0 ? frame[..at] : frame)}";
    }

    /// <summary>Removes chunks of <paramref name="input"/>, halving the chunk size, while it still fails with <paramref name="signature"/>.</summary>
    public static byte[] Minimize(FuzzTarget target, byte[] input, string signature)
    {
        ArgumentNullException.ThrowIfNull(input);
        var best = input;
        var budget = MinimizeBudget;
        for (var chunk = Math.Max(1, best.Length / 2); chunk >= 1 && budget > 0; chunk /= 2)
        {
            for (var at = 0; at < best.Length && budget > 0; budget--)
            {
                var candidate = best[..at].Concat(best[Math.Min(best.Length, at + chunk)..]).ToArray();
                if (Failure(target, candidate, out _) is { } e && Signature(e) == signature)
                {
                    best = candidate;
                }
                else
                {
                    at += chunk;
                }
            }
        }

        return best;
    }

    private static string? Save(string? directory, string target, byte[] input)
    {
        if (directory is null)
        {
            return null;
        }

        var folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(input))[..16] + ".bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}
