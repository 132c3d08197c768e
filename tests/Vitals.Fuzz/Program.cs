using System.Globalization;
using Vitals.Fuzz;

// vitals-fuzz: mutation-fuzzes every codec and the MQTT packet reader, round robin, and prints inputs/s per target.
// Minimized reproducers go to tests/Vitals.Fuzz/Regressions/<target>/ (or --out), where the regression test replays them.
var targets = FuzzTargets.All();
var total = TimeSpan.FromSeconds(60);
var slice = TimeSpan.FromSeconds(10);
var seed = Environment.TickCount;
var output = Directory.Exists(Path.Combine("tests", "Vitals.Fuzz")) ? Path.Combine("tests", "Vitals.Fuzz", "Regressions") : "fuzz-findings";
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--seconds": total = TimeSpan.FromSeconds(Number()); break;
        case "--minutes": total = TimeSpan.FromMinutes(Number()); break;
        case "--hours": total = TimeSpan.FromHours(Number()); break;
        case "--slice-seconds": slice = TimeSpan.FromSeconds(Number()); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": output = Next(); break;
        case "--target":
            var names = Next().Split(',');
            targets = [.. targets.Where(t => names.Contains(t.Name, StringComparer.OrdinalIgnoreCase))];
            break;
        default:
            Console.Error.WriteLine("usage: vitals-fuzz [--seconds N | --minutes N | --hours N] [--target hl7,mllp,masimo,line,json,mqtt] [--seed N] [--out DIR] [--slice-seconds N]");
            return 2;
    }
}

if (targets.Count == 0)
{
    Console.Error.WriteLine("vitals-fuzz: no such target; use hl7, mllp, masimo, line, json or mqtt");
    return 2;
}

Console.WriteLine($"vitals-fuzz: {string.Join(", ", targets.Select(t => t.Name))} for {total}, seed {seed}, reproducers to {Path.GetFullPath(output)}");
var totals = targets.ToDictionary(t => t.Name, _ => (Inputs: 0L, Elapsed: TimeSpan.Zero, Corpus: 0, Findings: 0));
var spent = TimeSpan.Zero;
var known = new HashSet<string>(StringComparer.Ordinal);
for (var round = 0; spent < total; round++)
{
    foreach (var target in targets)
    {
        var budget = TimeSpan.FromTicks(Math.Min(slice.Ticks, Math.Max(TimeSpan.FromSeconds(1).Ticks, (total - spent).Ticks / targets.Count)));
        var report = Fuzzer.Run(target, new FuzzOptions { Duration = budget, Seed = seed + (round * 31) + target.Name.Length, SaveDirectory = output, KnownSignatures = known });
        spent += report.Elapsed;
        var t = totals[target.Name];
        totals[target.Name] = (t.Inputs + report.Inputs, t.Elapsed + report.Elapsed, Math.Max(t.Corpus, report.CorpusSize), t.Findings + report.Findings.Count);
        foreach (var finding in report.Findings)
        {
            Console.WriteLine($"FOUND {finding.Target}: {finding.Signature}\n  {finding.Message}\n  reproducer ({finding.Input.Length} bytes): {finding.SavedPath}\n  base64: {Convert.ToBase64String(finding.Input)}");
        }
    }
}

Console.WriteLine($"{"target",-8} {"inputs",12} {"inputs/s",10} {"corpus",7} {"findings",8}");
foreach (var (name, t) in totals)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-8} {t.Inputs,12:N0} {t.Inputs / Math.Max(t.Elapsed.TotalSeconds, 0.001),10:N0} {t.Corpus,7} {t.Findings,8}"));
}

return totals.Values.Any(t => t.Findings > 0) ? 1 : 0;
