using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// The client's bounded body reading: bodies with and without Content-Length, delivered a few bytes at a time, at,
/// under and over the size limit, and Content-Length headers that do not match the body.
/// </summary>
public class FhirSearchClientTests
{
    private static readonly Uri Url = new("https://fhir.example/r4/Observation?patient=p1");

    /// <summary>A searchset of <paramref name="entries"/> Observations: about 230 bytes each.</summary>
    private static byte[] Bundle(int entries)
    {
        var items = Enumerable.Range(0, entries).Select(i =>
            $$$$"""{"resource":{"resourceType":"Observation","id":"o{{{{i}}}}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2276-4"}]},"valueQuantity":{"value":{{{{i}}}},"unit":"ng/mL"}}}""");
        return Encoding.UTF8.GetBytes($$"""{"resourceType":"Bundle","type":"searchset","entry":[{{string.Join(',', items)}}]}""");
    }

    private static Task<FhirResult> GetAsync(byte[] body, long limit, long? declaredLength, int bytesPerRead = 7) =>
        new FhirSearchClient(new HttpClient(new FixedAnswer(body, declaredLength, bytesPerRead)), limit).GetAsync(Url, null, CancellationToken.None);

    [Theory]
    [InlineData(0)]    // chunked: the buffer starts small and doubles
    [InlineData(1)]    // Content-Length: one buffer of the declared size
    public async Task Body_ManyTimesTheFirstBuffer_ReadWholeInSmallReads(int withLength)
    {
        var body = Bundle(400); // ~90 KB: several doublings of the 16 KB first buffer

        var result = await GetAsync(body, limit: 1 << 20, withLength == 1 ? body.Length : null, bytesPerRead: 1000);

        Assert.True(result.Succeeded, result.Failure.ToString());
        var bundle = Assert.IsType<Bundle>(result.Resource);
        Assert.Equal(400, bundle.Entry!.Count);
        Assert.Equal("o399", bundle.Entry[^1].Resource!.Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Body_ExactlyAtTheLimit_IsRead_OneByteMore_IsTooLarge(bool declared)
    {
        var body = Bundle(3);

        var atLimit = await GetAsync(body, limit: body.Length, declared ? body.Length : null);
        var overLimit = await GetAsync(body, limit: body.Length - 1, declared ? body.Length : null);

        Assert.True(atLimit.Succeeded, atLimit.Failure.ToString());
        Assert.Equal(FhirFailure.TooLarge, overLimit.Failure);
    }

    [Fact]
    public async Task ContentLength_SmallerThanTheBody_StillStopsAtTheLimit()
    {
        var body = Bundle(200);

        // A server that declares 100 bytes and sends 45 KB: the limit, not the header, bounds what is held.
        var result = await GetAsync(body, limit: 4096, declaredLength: 100, bytesPerRead: 512);

        Assert.Equal(FhirFailure.TooLarge, result.Failure);
    }

    [Fact]
    public async Task TruncatedBody_IsInvalidJson_NotAnException()
    {
        var body = Bundle(10);

        var result = await GetAsync(body[..(body.Length / 2)], limit: 1 << 20, declaredLength: null);

        Assert.Equal(FhirFailure.InvalidJson, result.Failure);
    }

    [Fact]
    public async Task EmptyBody_IsInvalidJson()
    {
        var result = await GetAsync([], limit: 1 << 20, declaredLength: 0);

        Assert.Equal(FhirFailure.InvalidJson, result.Failure);
    }

    /// <summary>
    /// Answers 200 application/fhir+json with the whole body trickled out, and the Content-Length header as told (which
    /// may not match the body: a misbehaving server).
    /// </summary>
    private sealed class FixedAnswer(byte[] body, long? declaredLength, int bytesPerRead) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new TrickleContent(body, bytesPerRead);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
            content.Headers.ContentLength = declaredLength;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    private sealed class TrickleContent(byte[] body, int bytesPerRead) : HttpContent
    {
        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new TrickleStream(body, bytesPerRead));

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
