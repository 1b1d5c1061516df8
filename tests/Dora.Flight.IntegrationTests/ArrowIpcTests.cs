using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

public sealed class ArrowIpcTests : IAsyncLifetime
{
    private FlightCluster _cluster = null!;
    private readonly List<RecordBatch> _written = [];

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(1, _ => { });
        for (int b = 0; b < 3; b++)
        {
            int rows = 1000 + b;
            var ids = new Int64Array.Builder();
            var names = new StringArray.Builder();
            var scores = new DoubleArray.Builder();
            for (int i = 0; i < rows; i++)
            {
                ids.Append((b * 10_000) + i);
                if (i % 9 == 0) { names.AppendNull(); } else { names.Append($"n{b}-{i}"); }
                if (i % 4 == 0) { scores.AppendNull(); } else { scores.Append(i * 0.5); }
            }

            _written.Add(new RecordBatch.Builder().Append("id", false, ids.Build()).Append("name", true, names.Build()).Append("score", true, scores.Build()).Build());
        }

        await using var file = File.Create(Path.Combine(_cluster.UfsPath, "events.arrow"));
        using var writer = new ArrowFileWriter(file, _written[0].Schema);
        foreach (RecordBatch batch in _written)
        {
            await writer.WriteRecordBatchAsync(batch);
        }

        await writer.WriteEndAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (RecordBatch batch in _written)
        {
            batch.Dispose();
        }

        await _cluster.DisposeAsync();
    }

    private static string Row(RecordBatch batch, int row) =>
        $"{((Int64Array)batch.Column(0)).GetValue(row)}|{((StringArray)batch.Column(1)).GetString(row) ?? "null"}|{((DoubleArray)batch.Column(2)).GetValue(row)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}";

    private async Task<List<string>> DoGetAsync(FlightTicket ticket)
    {
        using var call = _cluster.Client(0).GetStream(ticket);
        var rows = new List<string>();
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            rows.AddRange(Enumerable.Range(0, batch.Length).Select(r => Row(batch, r)));
        }

        return rows;
    }

    [Fact]
    public async Task An_arrow_ipc_file_round_trips_batch_by_batch_through_flight_info_endpoints()
    {
        FlightInfo info = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/events.arrow")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(["id", "name", "score"], info.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(3, info.Endpoints.Count);

        var rows = new List<string>();
        foreach (FlightEndpoint endpoint in info.Endpoints)
        {
            rows.AddRange(await DoGetAsync(endpoint.Ticket));
        }

        Assert.Equal(_written.SelectMany(b => Enumerable.Range(0, b.Length).Select(r => Row(b, r))), rows);
        Assert.Equal(
            Enumerable.Range(0, _written[1].Length).Select(r => Row(_written[1], r)),
            await DoGetAsync(new FlightTicket(ByteString.CopyFromUtf8("""{"kind":"batches","path":"/events.arrow","rowGroups":[1]}"""))));
    }

    /// <summary>The schema a Flight schema message holds, read by Arrow's own stream reader.</summary>
    private static Schema SchemaOf(Protocol.FlightData message)
    {
        using var stream = new MemoryStream();
        stream.Write([0xFF, 0xFF, 0xFF, 0xFF]);
        stream.Write(BitConverter.GetBytes(message.DataHeader.Length));
        stream.Write(message.DataHeader.Span);
        stream.Write([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        stream.Position = 0;
        using var reader = new ArrowStreamReader(stream);
        return reader.Schema;
    }

    [Theory]
    [InlineData("js-dictionary.arrow")]
    [InlineData("js-plain.arrow")]
    public async Task Arrow_files_written_by_apache_arrow_js_read_whole_through_flight(string name)
    {
        // apache-arrow JS writes the schema only in the footer and starts the file with its dictionaries.
        using var written = new TemporaryDirectory();
        string script = RepositoryFiles.PathOf(Path.Combine("tests", "Dora.Flight.IntegrationTests", "Scripts", "write-arrow-files.cjs"));
        using var expected = System.Text.Json.JsonDocument.Parse(await NodeScript.RunAsync(script, written.Path));
        File.Copy(Path.Combine(written.Path, name), Path.Combine(_cluster.UfsPath, name));
        System.Text.Json.JsonElement file = expected.RootElement.GetProperty(name);

        FlightInfo info = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/" + name)).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(file.GetProperty("batches").GetInt32(), info.Endpoints.Count);
        List<string> rows = await RowsOfEndpointsAsync(info);

        Assert.Equal(file.GetProperty("rows").EnumerateArray().Select(r => r.GetString()), rows);
    }

    /// <summary>Every endpoint's batches (dictionaries and all, as Arrow's stream reader decodes them) as JSON rows, each batch with the info's schema.</summary>
    private async Task<List<string>> RowsOfEndpointsAsync(FlightInfo info)
    {
        var rows = new List<string>();
        foreach (FlightEndpoint endpoint in info.Endpoints)
        {
            foreach (RecordBatch batch in await RawFlight.Of(_cluster, 0).ReadBatchesAsync(endpoint.Ticket.Ticket.ToStringUtf8()))
            {
                using (batch)
                {
                    Assert.Equal(info.Schema.FieldsList.Select(f => f.DataType.TypeId), batch.Schema.FieldsList.Select(f => f.DataType.TypeId));
                    rows.AddRange(Enumerable.Range(0, batch.Length).Select(r => ArrowJson.Row(batch, r)));
                }
            }
        }

        return rows;
    }

    [Fact]
    public async Task A_csharp_arrow_file_with_a_dictionary_column_reads_whole_through_flight()
    {
        var tags = new StringArray.Builder().Append("low").Append("high").Build();
        var batches = new List<RecordBatch>();
        for (int b = 0; b < 3; b++)
        {
            var indices = new Int32Array.Builder();
            var ids = new Int64Array.Builder();
            for (int i = 0; i < 500; i++)
            {
                indices.Append((i + b) % 2);
                ids.Append((b * 500) + i);
            }

            batches.Add(new RecordBatch.Builder()
                .Append("id", false, ids.Build())
                .Append("tag", false, new DictionaryArray(new Apache.Arrow.Types.DictionaryType(Apache.Arrow.Types.Int32Type.Default, Apache.Arrow.Types.StringType.Default, false), indices.Build(), tags))
                .Build());
        }

        await using (var file = File.Create(Path.Combine(_cluster.UfsPath, "dictionary.arrow")))
        using (var writer = new ArrowFileWriter(file, batches[0].Schema))
        {
            foreach (RecordBatch batch in batches)
            {
                await writer.WriteRecordBatchAsync(batch);
            }

            await writer.WriteEndAsync();
        }

        FlightInfo info = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/dictionary.arrow")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        List<string> rows = await RowsOfEndpointsAsync(info);

        Assert.Equal(batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(r => ArrowJson.Row(b, r))), rows);
        Assert.Contains("[501,\"low\"]", rows);
    }

    [Fact]
    public async Task A_chunk_ticket_of_an_arrow_file_is_exactly_one_record_batch_block()
    {
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(_cluster.UfsPath, "events.arrow"));
        (long firstBlock, _) = await ChunkAsync(0);
        for (int index = 0; index < 3; index++)
        {
            (long offset, byte[] block) = await ChunkAsync(index);
            Assert.Equal(file.AsSpan((int)offset, block.Length).ToArray(), block);

            // The file's schema message, this block and an end-of-stream marker make an IPC stream of that one batch.
            using var stream = new MemoryStream();
            stream.Write(file.AsSpan(8, (int)firstBlock - 8));
            stream.Write(block);
            stream.Write([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
            stream.Position = 0;
            using var reader = new ArrowStreamReader(stream);
            using RecordBatch batch = (await reader.ReadNextRecordBatchAsync())!;
            Assert.Equal(Enumerable.Range(0, _written[index].Length).Select(r => Row(_written[index], r)), Enumerable.Range(0, batch.Length).Select(r => Row(batch, r)));
        }
    }

    [Fact]
    public async Task Batches_of_an_arrow_file_go_out_as_the_files_own_message_bytes()
    {
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(_cluster.UfsPath, "events.arrow"));
        List<Protocol.FlightData> messages = await RawFlight.Of(_cluster, 0).DoGetAsync("""{"kind":"batches","path":"/events.arrow","rowGroups":[2,0]}""");

        // Schema (the footer's, so the file's fields and types), then batch 2 and batch 0: each header and body exactly
        // as the file stores them.
        Assert.Equal(3, messages.Count);
        Assert.True(messages[0].DataBody.IsEmpty);
        Assert.Equal(_written[0].Schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}:{f.IsNullable}"), SchemaOf(messages[0]).FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}:{f.IsNullable}"));
        foreach ((int index, Protocol.FlightData message) in new[] { (2, messages[1]), (0, messages[2]) })
        {
            (long offset, byte[] block) = await ChunkAsync(index);
            int headerLength = BitConverter.ToInt32(block, 4);
            Assert.Equal(block.AsSpan(8, headerLength).ToArray(), message.DataHeader.ToByteArray());
            Assert.Equal(block.AsSpan(block.Length - message.DataBody.Length).ToArray(), message.DataBody.ToByteArray());
            Assert.Equal(file.AsSpan((int)offset, block.Length).ToArray(), block);
        }
    }

    [Fact]
    public async Task An_arrow_batch_larger_than_the_message_limit_arrives_in_slices_with_every_row()
    {
        // 600,000 rows of two int64 columns: a 9.6 MB batch, over the 4 MiB message limit.
        const int Rows = 600_000;
        var ids = new Int64Array.Builder();
        var values = new Int64Array.Builder();
        for (int i = 0; i < Rows; i++)
        {
            ids.Append(i);
            if (i % 7 == 0) { values.AppendNull(); } else { values.Append(i * 3L); }
        }

        using RecordBatch big = new RecordBatch.Builder().Append("id", false, ids.Build()).Append("value", true, values.Build()).Build();
        await using (var stream = File.Create(Path.Combine(_cluster.UfsPath, "big.arrow")))
        using (var writer = new ArrowFileWriter(stream, big.Schema))
        {
            await writer.WriteRecordBatchAsync(big);
            await writer.WriteEndAsync();
        }

        using var call = _cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8("""{"kind":"batches","path":"/big.arrow"}""")));
        int batches = 0;
        long next = 0;
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            batches++;
            var id = (Int64Array)batch.Column(0);
            var value = (Int64Array)batch.Column(1);
            for (int row = 0; row < batch.Length; row++, next++)
            {
                Assert.Equal(next, id.GetValue(row));
                Assert.Equal(next % 7 == 0 ? null : next * 3L, value.GetValue(row));
            }
        }

        Assert.Equal(Rows, next);
        Assert.True(batches >= 3, $"expected the batch in at least 3 slices, got {batches}");
    }

    /// <summary>A chunk ticket's bytes and the file offset they start at.</summary>
    private async Task<(long Offset, byte[] Bytes)> ChunkAsync(int index)
    {
        using var call = _cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8($$"""{"kind":"chunk","path":"/events.arrow","rowGroup":{{index}}}""")));
        using var bytes = new MemoryStream();
        long? start = null;
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            start ??= ((Int64Array)batch.Column(0)).GetValue(0);
            var data = (BinaryArray)batch.Column(1);
            for (int row = 0; row < batch.Length; row++)
            {
                bytes.Write(data.GetBytes(row));
            }
        }

        return (start!.Value, bytes.ToArray());
    }

    [Theory]
    [InlineData("""{"kind":"chunk","path":"/events.arrow","rowGroup":9}""", "has 3 record batches; batch 9 does not exist")]
    [InlineData("""{"kind":"batches","path":"/events.arrow","rowGroups":[3]}""", "has 3 record batches; batch 3 does not exist")]
    [InlineData("""{"kind":"batches","path":"/events.arrow","columns":["id"]}""", "served whole, without \"columns\"")]
    public async Task Bad_arrow_tickets_are_invalid_arguments(string ticket, string expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => DoGetAsync(new FlightTicket(ByteString.CopyFromUtf8(ticket))));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }
}
