using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

/// <summary>glibc x86_64 <c>struct termios</c> (bits/termios-struct.h): 60 bytes, NCCS = 32.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Termios
{
    public uint IFlag;
    public uint OFlag;
    public uint CFlag;
    public uint LFlag;
    public byte Line;
    public fixed byte Cc[32];
    public uint ISpeed;
    public uint OSpeed;
}

/// <summary>Kernel <c>struct termios2</c> (asm-generic/termbits.h): 44 bytes, NCCS = 19, used with TCGETS2/TCSETS2.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Termios2
{
    public uint IFlag;
    public uint OFlag;
    public uint CFlag;
    public uint LFlag;
    public byte Line;
    public fixed byte Cc[19];
    public uint ISpeed;
    public uint OSpeed;
}

/// <summary>Linux x86_64 constants (asm-generic/termbits.h, asm-generic/ioctls.h, asm-generic/fcntl.h, errno-base.h).</summary>
internal static partial class Interop
{
    public const int ORdwr = 0x2;
    public const int ONoctty = 0x100;      // 0400
    public const int ONonblock = 0x800;    // 04000
    public const int OCloexec = 0x80000;   // 02000000

    public const uint TiocExcl = 0x540C;
    public const uint TcGets2 = 0x802C542A; // _IOR('T', 0x2A, struct termios2)
    public const uint TcSets2 = 0x402C542B; // _IOW('T', 0x2B, struct termios2)
    public const int TcsaNow = 0;
    public const int TcIoFlush = 2;

    // c_cflag
    public const uint CBaud = 0x100F;       // 0010017
    public const uint BOther = 0x1000;      // 0010000
    public const uint CSize = 0x30;         // 0000060
    public const uint CS7 = 0x20;
    public const uint CS8 = 0x30;
    public const uint CStopB = 0x40;        // 0000100
    public const uint CRead = 0x80;         // 0000200
    public const uint ParEnb = 0x100;       // 0000400
    public const uint ParOdd = 0x200;       // 0001000
    public const uint CLocal = 0x800;       // 0004000
    public const uint CRtsCts = 0x80000000; // 020000000000
    public const int IbShift = 16;          // input speed bits sit CBAUD << IBSHIFT

    // c_iflag
    public const uint InPck = 0x10;   // 0000020
    public const uint IxOn = 0x400;   // 0002000
    public const uint IxOff = 0x1000; // 0010000
    public const uint IxAny = 0x800;  // 0004000

    // c_cc indices
    public const int VTime = 5;
    public const int VMin = 6;
    public const int VStart = 8;
    public const int VStop = 9;

    // poll(2)
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const short PollErr = 0x8;
    public const short PollHup = 0x10;
    public const short PollNval = 0x20;

    // epoll(7): sys/epoll.h
    public const int EpollCloexec = 0x80000; // = O_CLOEXEC
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;
    public const uint EpollIn = 0x1;
    public const uint EpollOneShot = 1u << 30;

    // errno
    public const int ENoent = 2;
    public const int EIntr = 4;
    public const int EIo = 5;
    public const int ENxio = 6;
    public const int EAgain = 11;
    public const int EAcces = 13;
    public const int EBusy = 16;
    public const int ENodev = 19;
    public const int EInval = 22;
}
