using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Vitals.Devices.Tests")]
