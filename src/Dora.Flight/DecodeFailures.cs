using Dora.Core.Errors;
using Dora.Formats;
using Grpc.Core;

namespace Dora.Flight;

/// <summary>
/// Decoders (Parquet.Net, Apache.Arrow) meet file contents nobody checked: whatever they throw on damaged or unexpected
/// bytes is reported as that file's problem (INVALID_ARGUMENT naming the file and the piece), not as a server fault.
/// </summary>
internal static class DecodeFailures
{
    /// <summary>True for what a decoder throws on bad input; false for cancellation, Dora's own errors and exhaustion.</summary>
    public static bool IsDamage(Exception error) =>
        error is not (OperationCanceledException or DoraException or TicketException or FileLayoutException or RpcException or OutOfMemoryException);

    public static FileLayoutException Describe(string piece, Exception error) =>
        new($"{piece} cannot be decoded ({Reason(error)}); the file is damaged or uses something the decoder does not support");

    /// <summary>
    /// What went wrong, in the decoder's words: Arrow's C++ reader says it plainly (<c>Invalid: ...</c>, through
    /// ParquetSharp's exception), a .NET decoder's exception type says what kind of failure it was.
    /// </summary>
    public static string Reason(Exception error) => error is ParquetSharp.ParquetException
        ? error.Message.Split('\n', 2)[0].Trim()
        : $"{error.GetType().Name}: {error.Message}";
}
