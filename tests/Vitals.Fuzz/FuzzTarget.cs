using System.Text;

namespace Vitals.Fuzz;

/// <summary>
/// One thing the fuzzer drives. <see cref="Run"/> takes any bytes; it throws <see cref="InvariantViolation"/> when the code
/// under test broke a promise without crashing, and lets any other exception through (a crash). It must be deterministic:
/// the same bytes give the same outcome, so a saved reproducer replays.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>Short name used on the command line and as the reproducer folder.</summary>
    public abstract string Name { get; }

    /// <summary>Tokens the mutator inserts (separators, keywords, awkward numbers and times of this format).</summary>
    public abstract IReadOnlyList<byte[]> Dictionary { get; }

    /// <summary>Largest input the mutator builds for this target.</summary>
    public virtual int MaxInputBytes => 16 * 1024;

    /// <summary>The seed corpus: recorded captures and documented examples.</summary>
    public abstract IReadOnlyList<byte[]> Seeds();

    /// <summary>
    /// Runs one input through the code under test and checks its invariants. Returns a short, digit-free description of
    /// what happened (for example which error), so inputs that reach a new outcome are kept for further mutation.
    /// </summary>
    public abstract string Run(byte[] input);

    /// <summary>Reads the files of the seed corpus (copied next to the fuzzer) matching <paramref name="pattern"/>.</summary>
    protected static IEnumerable<byte[]> CorpusFiles(string pattern) =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Corpus"), pattern, SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes);

    /// <summary>ASCII tokens as bytes.</summary>
    protected static IReadOnlyList<byte[]> Tokens(params string[] tokens) => [.. tokens.Select(Encoding.Latin1.GetBytes)];
}

/// <summary>The code under test broke an invariant (wrong output, or chunked and whole feeding disagree) without throwing.</summary>
public sealed class InvariantViolation : Exception
{
    public InvariantViolation()
    {
    }

    public InvariantViolation(string message)
        : base(message)
    {
    }

    public InvariantViolation(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
