using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>write(2).</summary>
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, byte* buffer, nuint count);
}
