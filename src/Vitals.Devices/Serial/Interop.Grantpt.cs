using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>grantpt(3).</summary>
    [LibraryImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    internal static partial int Grantpt(int fd);
}
