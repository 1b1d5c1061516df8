using Dora.Fuzz;
using SharpFuzz;

// dora-fuzz TARGET            run under afl-fuzz (input on stdin, SharpFuzz's persistent mode); see fuzz/README.md
// dora-fuzz TARGET FILE|DIR   run the target once per file (a corpus, a crash) and say which input failed, if any
// dora-fuzz seeds DIR         write the seed corpus
if (args is ["seeds", var folder])
{
    await SeedCorpus.WriteAsync(folder);
    return 0;
}

if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: Dora.Fuzz TARGET [FILE|DIR]; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}

if (args.Length == 1)
{
    Fuzzer.Run(stream =>
    {
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        target(bytes.ToArray());
    });
    return 0;
}

string[] inputs = Directory.Exists(args[1]) ? Directory.GetFiles(args[1]) : [args[1]];
foreach (string input in inputs)
{
    try
    {
        target(File.ReadAllBytes(input));
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"{args[0]}: {input}: {e}");
        return 1;
    }
}

Console.WriteLine($"{args[0]}: {inputs.Length} inputs, no failure");
return 0;
