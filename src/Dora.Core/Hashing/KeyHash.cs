using System.Buffers;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace Dora.Core.Hashing;

/// <summary>
/// The hash functions every Dora process (and every client in any language) uses to place keys, exactly as
/// <c>docs/hashing.md</c> specifies them: XXH64 over UTF-8 bytes, and the SplitMix64 finalizer to derive further
/// independent values from one 64-bit hash.
/// </summary>
public static class KeyHash
{
    /// <summary>Paths up to this many UTF-8 bytes are hashed from a stack buffer; longer ones rent a pooled one.</summary>
    private const int StackLimit = 512;

    /// <summary>The placement hash of a path: XXH64 of its UTF-8 bytes with seed 0.</summary>
    public static ulong OfPath(string path) => Of(path, seed: 0);

    /// <summary>XXH64 of the UTF-8 bytes of <paramref name="text"/> with the given seed.</summary>
    public static ulong Of(string text, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            int length = Encoding.UTF8.GetBytes(text, buffer);
            return XxHash64.HashToUInt64(buffer[..length], unchecked((long)seed));
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int length = Encoding.UTF8.GetBytes(text, rented);
            return XxHash64.HashToUInt64(rented.AsSpan(0, length), unchecked((long)seed));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The SplitMix64 finalizer: a bijective mix of 64 bits. Policies use <c>Mix(h + i * Golden)</c> to derive the
    /// i-th independent probe of a key from its one XXH64 value instead of hashing the path again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong value)
    {
        unchecked
        {
            value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
            value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
            return value ^ (value >> 31);
        }
    }

    /// <summary>Folds a 64-bit hash to 32 bits: <c>(uint)(x ^ (x >> 32))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fold(ulong value) => (uint)(value ^ (value >> 32));

    /// <summary>The MurmurHash3 32-bit finalizer (fmix32): a bijective mix of 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fmix32(uint value)
    {
        unchecked
        {
            value ^= value >> 16;
            value *= 0x85EBCA6Bu;
            value ^= value >> 13;
            value *= 0xC2B2AE35u;
            return value ^ (value >> 16);
        }
    }

    /// <summary>The SplitMix64 increment (2^64 / golden ratio), used to space derived probes.</summary>
    public const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Maps a 64-bit hash uniformly onto <c>[0, range)</c> as <c>floor(h * range / 2^64)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Reduce(ulong hash, int range) => (int)Math.BigMul(hash, (ulong)range, out _);
}
