using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>unlockpt(3).</summary>
    [LibraryImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    internal static partial int Unlockpt(int fd);
}
