using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace CdsHooks.Fhir;

/// <summary>Why a FHIR read or search gave no usable resource. Transport failures are exceptions, not values.</summary>
public enum FhirFailure
{
    None,
    /// <summary>404/410 on a read: the server says the resource does not exist.</summary>
    NotFound,
    /// <summary>401: the access token was refused.</summary>
    Unauthorized,
    /// <summary>403: the token does not grant this read.</summary>
    Forbidden,
    /// <summary>429 after the retries the resilience pipeline allowed.</summary>
    Throttled,
    /// <summary>Any other 4xx/5xx.</summary>
    ServerError,
    /// <summary>3xx: redirects are never followed (a redirect could lead off the allowlist).</summary>
    Redirect,
    /// <summary>A body that is not FHIR JSON (an HTML error page, plain text).</summary>
    NotFhirJson,
    /// <summary>Truncated or malformed JSON, or JSON that is not a FHIR resource.</summary>
    InvalidJson,
    /// <summary>The body is larger than the configured limit.</summary>
    TooLarge,
    /// <summary>The server answered 200 with an OperationOutcome, or with the wrong resource type.</summary>
    UnexpectedResource,
}

/// <summary>The outcome of one GET: a resource, or why there is none (and the HTTP status when there was one).</summary>
public readonly record struct FhirResult(Resource? Resource, FhirFailure Failure, int? Status = null)
{
    public bool Succeeded => Failure == FhirFailure.None;
}

/// <summary>
/// A small typed FHIR REST client for reads and searches (FHIR R4 §RESTful API): GET with
/// <c>Accept: application/fhir+json</c>, an optional bearer token (the CDS Hooks <c>fhirAuthorization</c>), bodies
/// read up to a size limit and parsed with the source-generated FHIR model. HTTP errors become a
/// <see cref="FhirFailure"/>; transport errors (connection failures, cancellation) propagate to the caller, which
/// knows its deadline. Redirects are the handler's to refuse: this client reports 3xx as <see cref="FhirFailure.Redirect"/>.
/// </summary>
public sealed class FhirSearchClient(HttpClient http, long maxResponseBytes)
{
    public const string FhirJsonMediaType = "application/fhir+json";

    private static readonly MediaTypeWithQualityHeaderValue AcceptFhirJson = new(FhirJsonMediaType);

    /// <summary>The first buffer when the server sends no Content-Length (chunked): a typical search page fits.</summary>
    private const int InitialBufferBytes = 16 * 1024;

    /// <summary>Reads <paramref name="url"/> (a read or a search / next-page URL) and parses the resource it returns.</summary>
    public async Task<FhirResult> GetAsync(Uri url, string? bearerToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(AcceptFhirJson);
        if (bearerToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var failure = response.StatusCode switch
        {
            >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices => FhirFailure.None,
            >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest => FhirFailure.Redirect,
            HttpStatusCode.NotFound or HttpStatusCode.Gone => FhirFailure.NotFound,
            HttpStatusCode.Unauthorized => FhirFailure.Unauthorized,
            HttpStatusCode.Forbidden => FhirFailure.Forbidden,
            HttpStatusCode.TooManyRequests => FhirFailure.Throttled,
            _ => FhirFailure.ServerError,
        };
        if (failure != FhirFailure.None) return new(null, failure, status);
        if (!IsJson(response.Content.Headers.ContentType)) return new(null, FhirFailure.NotFhirJson, status);
        if (response.Content.Headers.ContentLength > maxResponseBytes) return new(null, FhirFailure.TooLarge, status);

        var (body, length) = await ReadBoundedAsync(response.Content, maxResponseBytes, cancellationToken).ConfigureAwait(false);
        if (body is null) return new(null, FhirFailure.TooLarge, status);
        try
        {
            var resource = JsonSerializer.Deserialize(body.AsSpan(0, length), FhirJson.ResourceInfo);
            return resource is null or OperationOutcome ? new(null, FhirFailure.UnexpectedResource, status) : new(resource, FhirFailure.None, status);
        }
        catch (JsonException)
        {
            return new(null, FhirFailure.InvalidJson, status);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body); // the resource holds strings, never the buffer
        }
    }

    /// <summary>FHIR servers answer application/fhir+json, older ones application/json+fhir or application/json.</summary>
    private static bool IsJson(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType is { } m && (m.Equals(FhirJsonMediaType, StringComparison.OrdinalIgnoreCase)
            || m.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || m.Equals("application/json+fhir", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads the body into a pooled buffer (the caller returns it), sized from Content-Length when the server sent one
    /// and grown by doubling otherwise; gives up (null) as soon as the body passes <paramref name="limit"/>, so a
    /// huge bundle is never held whole. A fallback hook call reads six of these: fresh 16 KB chunks and a growing
    /// MemoryStream per read were most of its allocation.
    /// </summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadBoundedAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        // One byte more than the declared length, so the end of the body is seen without growing.
        var declared = content.Headers.ContentLength;
        var buffer = ArrayPool<byte>.Shared.Rent(declared is { } n && n < limit ? (int)n + 1 : InitialBufferBytes);
        var length = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                if (length == buffer.Length)
                {
                    var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, 2L * buffer.Length));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = grown;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0) return (buffer, length);
                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
