using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Vitals.Devices.Tests")]
[assembly: InternalsVisibleTo("Vitals.Devices.Benchmarks")]
