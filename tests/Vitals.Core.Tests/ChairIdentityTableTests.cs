namespace Vitals.Core.Tests;

/// <summary>
/// The identity table in front of a chair lookup (the engine's chairs, the live view's) against the lookup alone: over a
/// random stream of readings whose site and chair strings are sometimes the configured instances and sometimes equal
/// copies, with far more chairs than the table holds, every answer is the one the map gives.
/// </summary>
public class ChairIdentityTableTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomStream_AnswersAsTheMapAlone(int seed)
    {
        var random = new Random(seed);
        string[] sites = ["north", "south"];
        var chairs = Enumerable.Range(0, 1_500).Select(i => "bed-" + i).ToArray();
        var map = new Dictionary<(string, string), object>();
        foreach (var site in sites)
        {
            foreach (var chair in chairs)
            {
                map[(site, chair)] = new object();
            }
        }

        var table = new ChairIdentityTable<object>();
        object Lookup(string site, string chair)
        {
            if (table.TryGet(site, chair, out var found))
            {
                return found;
            }

            var value = map[(site, chair)];
            table.Remember(site, chair, value);
            return value;
        }

        var hits = 0;
        for (var i = 0; i < 200_000; i++)
        {
            // Mostly a few hot chairs (a ward's feeds), sometimes any chair, sometimes a copy of the strings (a command, the store).
            var site = sites[random.Next(sites.Length)];
            var chair = chairs[random.Next(10) < 8 ? random.Next(60) : random.Next(chairs.Length)];
            if (random.Next(20) == 0)
            {
                (site, chair) = (new string(site.AsSpan()), new string(chair.AsSpan()));
            }

            hits += table.TryGet(site, chair, out _) ? 1 : 0;
            Assert.Same(map[(site, chair)], Lookup(site, chair));
            if (random.Next(50_000) == 0)
            {
                table.Clear();
            }
        }

        Assert.InRange(hits, 100_000, 200_000); // the table answered most lookups itself
    }
}
