using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>ioctl(2) with a pointer (or no) argument; on x86_64 a variadic int/pointer call has the plain ABI.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(int fd, nuint request, void* arg);
}
