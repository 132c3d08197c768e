namespace Vitals.Core.Alarms;

/// <summary>
/// Identifies a chair across sites: chair ids are unique only within a site, and a central station sees many sites.
/// The engine keys every piece of chair state (alarms, sessions, pauses, condition timers) by it.
/// </summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair id within the site.</param>
public readonly record struct ChairKey(string Site, string Chair)
{
    /// <summary>Site, then chair, ordinal: the engine's stable iteration order.</summary>
    public static IComparer<ChairKey> Order { get; } = Comparer<ChairKey>.Create((a, b) =>
        string.CompareOrdinal(a.Site, b.Site) is var bySite and not 0 ? bySite : string.CompareOrdinal(a.Chair, b.Chair));

    /// <inheritdoc />
    public override string ToString() => $"{Site}/{Chair}";
}
