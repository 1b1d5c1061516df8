using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Dora.TestSupport;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

/// <summary>A worker serving the Parquet corpus DuckDB writes (Scripts/duckdb-corpus.cjs), shared by the tests of a class.</summary>
public sealed class DuckDbCorpus : IAsyncLifetime
{
    internal FlightCluster Cluster { get; private set; } = null!;

    internal static string Script(string name) => RepositoryFiles.PathOf(Path.Combine("tests", "Dora.Flight.IntegrationTests", "Scripts", name));

    public async Task InitializeAsync()
    {
        Cluster = await FlightCluster.StartAsync(1, _ => { }, new FlightOptions { MaxEndpointBytes = 1 << 20, DecodeMemoryBytes = 64L << 20 });
        await NodeScript.RunAsync(Script("duckdb-corpus.cjs"), Cluster.UfsPath);
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Every file DuckDB writes (every DuckDB type, nested ones included, in V1 and V2 encodings with every codec, several
/// row groups; all-null columns; no rows) read through Flight with the Apache.Arrow.Flight client: each column has the
/// Arrow type pyarrow gives it, and every value equals DuckDB's own read of the file. The batches received are written
/// back to Parquet and DuckDB compares the two files row by row, column by column.
/// </summary>
public sealed class DuckDbCorpusTests(DuckDbCorpus corpus) : IClassFixture<DuckDbCorpus>
{
    /// <summary>What <c>pyarrow.parquet.read_table</c> gives for each column DuckDB writes.</summary>
    private static readonly Dictionary<string, string> ExpectedTypes = new()
    {
        ["id"] = "int64",
        ["b"] = "bool",
        ["i8"] = "int8",
        ["i16"] = "int16",
        ["i32"] = "int32",
        ["i64"] = "int64",
        ["u8"] = "uint8",
        ["u16"] = "uint16",
        ["u32"] = "uint32",
        ["u32hi"] = "uint32",
        ["u64"] = "uint64",
        ["f32"] = "float",
        ["f64"] = "double",
        ["hi"] = "double", // DuckDB writes HUGEINT as DOUBLE
        ["d4"] = "decimal128(4, 1)",
        ["d9"] = "decimal128(9, 2)",
        ["d18"] = "decimal128(18, 3)",
        ["d38"] = "decimal128(38, 10)",
        ["s"] = "string",
        ["e"] = "string",
        ["bl"] = "binary",
        ["u"] = "fixed_size_binary[16]",
        ["j"] = "string",
        ["iv"] = "fixed_size_binary[12]",
        ["dt"] = "date32[day]",
        ["t"] = "time64[us]",
        ["ts"] = "timestamp[us]",
        ["tstz"] = "timestamp[us, tz=UTC]",
        ["ts_s"] = "timestamp[us]", // DuckDB writes TIMESTAMP_S in microseconds
        ["ts_ms"] = "timestamp[ms]",
        ["ts_ns"] = "timestamp[us]", // DuckDB writes TIMESTAMP_NS in microseconds; ParquetNanosecondTests covers nanoseconds
        ["l"] = "list<element: int64>",
        ["ls"] = "list<element: string>",
        ["st"] = "struct<x: int64, y: string, z: double>",
        ["m"] = "map<string, int64>",
        ["nested"] = "struct<list: list<element: struct<a: int64, b: list<element: string>>>, map: map<int64, list<element: double>>>",
        ["ll"] = "list<element: list<element: int64>>",
    };

    private static readonly string[] Versions = ["v1", "v2"];

    private static readonly string[] Codecs = ["uncompressed", "snappy", "gzip", "zstd", "lz4", "brotli"];

    public static TheoryData<string> Files() =>
    [
        .. from version in Versions
           from codec in Codecs
           select $"types-{version}-{codec}.parquet",
        "all-null.parquet",
        "empty.parquet",
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Every_column_has_pyarrows_type_and_duckdbs_values(string name)
    {
        FlightInfo info = await corpus.Cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/" + name)).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.NotEmpty(info.Schema.FieldsList);
        foreach ((string column, string type) in ArrowTypeNames.Of(info.Schema))
        {
            Assert.True(ExpectedTypes.TryGetValue(column, out string? expected), $"no expected type for column {column}");
            Assert.True(expected == type, $"{name}: column {column} is {type}, pyarrow gives {expected}");
        }

        using var served = new TemporaryDirectory();
        string servedFile = served.Combine(name);
        long rows = await WriteServedAsync(info, servedFile);
        Assert.Equal(info.TotalRecords, rows);

        using JsonDocument comparison = JsonDocument.Parse(await NodeScript.RunAsync(DuckDbCorpus.Script("duckdb-compare.cjs"), Path.Combine(corpus.Cluster.UfsPath, name), servedFile));
        JsonElement counts = comparison.RootElement.GetProperty("rows");
        Assert.Equal(counts[0].GetInt64(), counts[1].GetInt64());
        Assert.Equal(counts[0].GetInt64(), rows);
        var differing = comparison.RootElement.GetProperty("columns").EnumerateObject()
            .Where(c => c.Value.GetProperty("mismatches").GetInt64() != 0)
            .Select(c => $"{c.Name}: {c.Value.GetProperty("mismatches")} rows differ, first {c.Value.GetProperty("first")}")
            .ToList();
        Assert.True(differing.Count == 0, $"{name}: {string.Join("; ", differing)}");
    }

    /// <summary>Reads every endpoint of <paramref name="info"/> and writes the batches to a Parquet file; returns the rows.</summary>
    private async Task<long> WriteServedAsync(FlightInfo info, string path)
    {
        long rows = 0;
        using var writer = new ParquetSharp.Arrow.FileWriter(path, info.Schema);
        foreach (FlightEndpoint endpoint in info.Endpoints)
        {
            Assert.Equal(corpus.Cluster.Cluster.Workers[0].FlightUri, endpoint.Locations.Single().Uri);
            using var call = corpus.Cluster.Client(0).GetStream(endpoint.Ticket);
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
                RecordBatch batch = call.ResponseStream.Current;
                Assert.Equal(ArrowTypeNames.Of(info.Schema), ArrowTypeNames.Of(batch.Schema));
                writer.WriteRecordBatch(batch);
                rows += batch.Length;
            }
        }

        writer.Close();
        return rows;
    }

    [Fact]
    public async Task A_file_arrows_reader_refuses_is_invalid_argument_naming_the_row_group_and_the_reason()
    {
        // DuckDB's V2 writer stores UINTEGER values of 2^31 and above as deltas wider than their INT32 column; Arrow's
        // reader, and so pyarrow, refuses the page.
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = corpus.Cluster.Client(0).GetStream(new FlightTicket("""{"kind":"batches","path":"/duckdb-v2-wide-deltas.parquet"}"""));
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
            }
        });
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("row group 0 of '/duckdb-v2-wide-deltas.parquet'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("Unexpected end of stream", error.Status.Detail, StringComparison.Ordinal);
    }
}
