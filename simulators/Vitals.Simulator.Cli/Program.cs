using System.CommandLine;
using System.Globalization;
using Vitals.Core;
using Vitals.Simulator;

// vitals-sim: the simulated monitors on the command line. `print` writes a scenario's readings at once
// (deterministic for a seed), for fixtures, plots and checking a scenario before a demo.
var scenario = Vitals.Simulator.Cli.ProtocolCommands.ScenarioOption();
var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same readings.", DefaultValueFactory = _ => 1 };
var minutes = new Option<double>("--minutes") { Description = "Monitor minutes to simulate.", DefaultValueFactory = _ => 30 };
var timeScale = new Option<double>("--time-scale") { Description = "Scenario minutes per monitor minute.", DefaultValueFactory = _ => 1 };
var format = new Option<string>("--format") { Description = "Output format: csv or jsonl.", DefaultValueFactory = _ => "csv" };

var print = new Command("print", "Write a scenario's readings to stdout, one per line.") { scenario, seed, minutes, timeScale, format };
print.SetAction(parse =>
{
    if (!Vitals.Simulator.Cli.ProtocolCommands.TryScenario(parse, scenario, out var kind, out var error))
    {
        Console.Error.WriteLine($"vitals-sim: {error}");
        return 2;
    }

    var fmt = parse.GetValue(format);
    if (fmt is not ("csv" or "jsonl"))
    {
        Console.Error.WriteLine($"vitals-sim: --format: '{fmt}' is not supported. Fix: use csv or jsonl.");
        return 2;
    }

    var scale = parse.GetValue(timeScale);
    var span = parse.GetValue(minutes);
    if (scale is <= 0 or > 10_000 || span is <= 0 or > 24 * 60)
    {
        Console.Error.WriteLine("vitals-sim: --time-scale must be above 0 and at most 10000, --minutes above 0 and at most 1440.");
        return 2;
    }

    var patient = new SimulatedPatient(new SimulatorOptions(kind, parse.GetValue(seed), scale));
    var output = Console.Out;
    if (fmt == "csv")
    {
        output.WriteLine("seconds,sign,value,unit");
    }

    foreach (var r in patient.Run(TimeSpan.FromMinutes(span)))
    {
        var info = r.Sign.Info();
        var seconds = r.Elapsed.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        var value = r.Value.ToString(CultureInfo.InvariantCulture);
        output.WriteLine(fmt == "csv"
            ? $"{seconds},{info.ShortName},{value},{info.Unit}"
            : $$"""{"seconds":{{seconds}},"sign":"{{info.ShortName}}","value":{{value}},"unit":"{{info.Unit}}"}""");
    }

    return 0;
});

var root = new RootCommand("vitals-sim: deterministic simulated bedside monitors for Vitals. Simulated data only, never a patient's.")
{
    print, Vitals.Simulator.Cli.ProtocolCommands.Serial(Console.Out, Console.Error), Vitals.Simulator.Cli.ProtocolCommands.Hl7(Console.Out, Console.Error),
    Vitals.Simulator.Cli.MqttCommand.Create(Console.Error),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
