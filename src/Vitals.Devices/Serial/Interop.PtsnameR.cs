using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>ptsname_r(3): the slave device path of a pty master.</summary>
    [LibraryImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    internal static unsafe partial int PtsnameR(int fd, byte* buffer, nuint length);
}
