using System.Text;
using System.Text.Json;
using CdsHooks.Protocol;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// A large compact hook request read from a stream (as the endpoint reads it) parses even when a prefetch resource
/// straddles the serializer's buffer: the resource converter must not call Skip on a non-final block.
/// </summary>
public sealed class StreamedRequestParsingTests
{
    [Theory]
    [InlineData("patient")]
    [InlineData("ironLabs")]
    public async Task CompactRequestWithOperationOutcome_ReadFromStream_Parses(string key)
    {
        var body = FallbackRequests.WithFailedPrefetch("requests/order-select-sertraline-big-benchmark.json", new Uri("https://ehr.example/fhir"), key);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(body));

        var request = await JsonSerializer.DeserializeAsync(stream, CdsJson.RequestInfo);

        Assert.IsType<CdsHooks.Fhir.OperationOutcome>(request!.Prefetch![key]);
        Assert.Equal(11, request.Prefetch.Count);
    }
}
