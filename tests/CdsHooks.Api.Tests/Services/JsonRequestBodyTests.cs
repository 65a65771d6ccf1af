using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using CdsHooks.Api.Services;
using CdsHooks.Protocol;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Services;

public class JsonRequestBodyTests
{
    /// <summary>A body written to a pipe in small chunks, as Kestrel delivers a large request.</summary>
    private static async Task<PipeReader> ChunkedAsync(string json, int chunk = 1000)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var bytes = Encoding.UTF8.GetBytes(json);
        for (int i = 0; i < bytes.Length; i += chunk)
        {
            await pipe.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
        }
        await pipe.Writer.CompleteAsync();
        return pipe.Reader;
    }

    [Fact]
    public async Task ReadAsync_LargeBodyInManySegments_SameAsParsingItWhole()
    {
        var json = FixtureFiles.ReadFixture("requests/order-select-sertraline-big-benchmark.json");

        var request = await JsonRequestBody.ParseWholeAsync(await ChunkedAsync(json), CdsJson.RequestInfo, CancellationToken.None);

        var expected = JsonSerializer.Deserialize(json, CdsJson.RequestInfo)!;
        Assert.NotNull(request);
        Assert.Equal(JsonSerializer.Serialize(expected, CdsJson.RequestInfo), JsonSerializer.Serialize(request, CdsJson.RequestInfo));
    }

    [Fact]
    public async Task ReadAsync_MalformedBody_ReportsThePathAndLineAsStreamingDid()
    {
        var json = "{\n  \"hook\": \"order-select\",\n  \"context\": {\"patientId\": 12}\n}";

        var ex = await Assert.ThrowsAsync<JsonException>(async () => await JsonRequestBody.ParseWholeAsync(await ChunkedAsync(json, chunk: 7), CdsJson.RequestInfo, CancellationToken.None));

        var streaming = await Assert.ThrowsAsync<JsonException>(async () =>
            await JsonSerializer.DeserializeAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), CdsJson.RequestInfo));
        Assert.Equal(streaming.Path, ex.Path);
        Assert.Equal(streaming.LineNumber, ex.LineNumber);
    }

    [Fact]
    public async Task ReadAsync_EmptyBody_IsAJsonError()
    {
        await Assert.ThrowsAsync<JsonException>(async () => await JsonRequestBody.ParseWholeAsync(await ChunkedAsync(""), CdsJson.RequestInfo, CancellationToken.None));
    }
}
