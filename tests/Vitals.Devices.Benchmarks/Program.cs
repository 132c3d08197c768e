using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project tests/Vitals.Devices.Benchmarks -- --filter '*' --inProcess [--job short]
// --inProcess because BenchmarkDotNet 0.14 predates the net10.0 moniker and cannot build a separate host for it.
BenchmarkSwitcher.FromAssembly(typeof(Vitals.Devices.Benchmarks.MasimoDecodeBenchmarks).Assembly).Run(args);
