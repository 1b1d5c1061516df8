using Dora.TestSupport;

namespace Dora.Fuzz.Tests;

/// <summary>
/// Replays every fuzzing input kept in the repository through its target: the seed corpus (fuzz/corpus/TARGET) and
/// every input that once failed (fuzz/regressions/TARGET, written by fuzz/run.sh). A target may only fail the way its
/// callers expect, so an exception escaping it here is the defect coming back.
/// </summary>
public sealed class FuzzInputTests
{
    public static TheoryData<string, string> Inputs()
    {
        var inputs = new TheoryData<string, string>();
        foreach (string folder in new[] { "fuzz/corpus", "fuzz/regressions" })
        {
            foreach (string target in FuzzTargets.All.Keys)
            {
                string directory = RepositoryFiles.PathOf(Path.Combine(folder, target));
                foreach (string file in Directory.Exists(directory) ? Directory.GetFiles(directory) : [])
                {
                    inputs.Add(target, Path.GetRelativePath(RepositoryFiles.Root, file));
                }
            }
        }

        return inputs;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task A_kept_input_fails_only_as_its_callers_expect(string target, string input)
    {
        byte[] bytes = await File.ReadAllBytesAsync(RepositoryFiles.PathOf(input));

        // A hang is a failure too; the slowest input takes milliseconds.
        await Task.Run(() => FuzzTargets.All[target](bytes)).WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void Every_target_has_seeds_and_every_kept_input_a_target()
    {
        foreach (string target in FuzzTargets.All.Keys)
        {
            Assert.NotEmpty(Directory.GetFiles(RepositoryFiles.PathOf($"fuzz/corpus/{target}")));
        }

        foreach (string folder in new[] { "fuzz/corpus", "fuzz/regressions" })
        {
            foreach (string directory in Directory.GetDirectories(RepositoryFiles.PathOf(folder)))
            {
                Assert.Contains(Path.GetFileName(directory), FuzzTargets.All.Keys);
            }
        }
    }
}
