using System.Runtime.InteropServices;
using SQLitePCL;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// An insert statement's per-row calls (binds, step, reset) on its raw pointer, for one batch. SQLitePCL takes a
/// statement as a SafeHandle, so each of those ~8 calls per frame added and released a reference (SafeHandle
/// AddRef/Release: 1.2 % of the gateway's CPU in the shared harness, AOT perf); this holds one reference for the batch.
/// The functions are the e_sqlite3 library's own exports, the ones SQLitePCL's e_sqlite3 provider (the one
/// Microsoft.Data.Sqlite's bundle installs) calls; under any other provider the calls go through SQLitePCL as before.
/// </summary>
internal readonly ref struct FrameInsert : IDisposable
{
    private static readonly bool Direct = raw.GetNativeLibraryName() == "e_sqlite3";

    /// <summary>SQLITE_TRANSIENT: SQLite copies a bound blob before the call returns.</summary>
    private static readonly IntPtr Transient = new(-1);

    private readonly sqlite3_stmt statement;
    private readonly IntPtr handle;

    public FrameInsert(sqlite3_stmt statement)
    {
        this.statement = statement;
        if (Direct)
        {
            var added = false;
            statement.DangerousAddRef(ref added);
            handle = statement.DangerousGetHandle();
        }
    }

    public void Bind(int column, long value)
    {
        if (handle != IntPtr.Zero)
        {
            _ = NativeMethods.sqlite3_bind_int64(handle, column, value);
        }
        else
        {
            _ = raw.sqlite3_bind_int64(statement, column, value);
        }
    }

    public void Bind(int column, int value)
    {
        if (handle != IntPtr.Zero)
        {
            _ = NativeMethods.sqlite3_bind_int(handle, column, value);
        }
        else
        {
            _ = raw.sqlite3_bind_int(statement, column, value);
        }
    }

    public void Bind(int column, double value)
    {
        if (handle != IntPtr.Zero)
        {
            _ = NativeMethods.sqlite3_bind_double(handle, column, value);
        }
        else
        {
            _ = raw.sqlite3_bind_double(statement, column, value);
        }
    }

    /// <summary>Binds a copy of <paramref name="value"/> (SQLITE_TRANSIENT): the caller reuses its buffer.</summary>
    public void Bind(int column, ReadOnlySpan<byte> value)
    {
        if (handle != IntPtr.Zero)
        {
            _ = NativeMethods.sqlite3_bind_blob(handle, column, ref MemoryMarshal.GetReference(value), value.Length, Transient);
        }
        else
        {
            _ = raw.sqlite3_bind_blob(statement, column, value);
        }
    }

    /// <summary>Runs the insert and resets it for the next frame; returns the step's result code.</summary>
    public int StepAndReset()
    {
        if (handle != IntPtr.Zero)
        {
            var rc = NativeMethods.sqlite3_step(handle);
            _ = NativeMethods.sqlite3_reset(handle);
            return rc;
        }

        var result = raw.sqlite3_step(statement);
        _ = raw.sqlite3_reset(statement);
        return result;
    }

    public void Dispose()
    {
        if (handle != IntPtr.Zero)
        {
            statement.DangerousRelease();
        }
    }

    private static class NativeMethods
    {
        private const string Library = "e_sqlite3";

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_bind_int64(IntPtr stmt, int index, long value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_bind_int(IntPtr stmt, int index, int value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_bind_double(IntPtr stmt, int index, double value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_bind_blob(IntPtr stmt, int index, ref byte value, int length, IntPtr destructor);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_step(IntPtr stmt);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_reset(IntPtr stmt);
    }
}
