using Microsoft.Win32.SafeHandles;

namespace Vitals.Devices.Serial;

/// <summary>Owns a file descriptor. Reads hold a reference, so Dispose from another thread cannot close an fd mid-poll.</summary>
internal sealed class SafeFdHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFdHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    /// <summary>Holds a reference for the native calls of one operation (<c>using var lease = handle.Borrow();</c>).</summary>
    public Lease Borrow()
    {
        var added = false;
        DangerousAddRef(ref added); // throws when already closed; otherwise added is true
        return new Lease(this);
    }

    protected override bool ReleaseHandle() => Interop.Close((int)handle) == 0;

    /// <summary>The descriptor, valid until <see cref="Dispose"/> gives the reference back.</summary>
    public readonly ref struct Lease(SafeFdHandle owner)
    {
        public int Fd => owner.Fd;

        public void Dispose() => owner.DangerousRelease();
    }
}
