using System.Net.Http.Headers;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// Signs every outgoing call as a CDS client does: a fresh JWT whose <c>aud</c> is the public URL of the exact
/// endpoint called. Remembers the last token so a test can replay it elsewhere.
/// </summary>
public sealed class SigningHandler(TestSigningKey key, string issuer, Uri publicBaseUrl) : DelegatingHandler(new HttpClientHandler())
{
    public string? LastToken { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null)
        {
            var audience = new Uri(publicBaseUrl, request.RequestUri!.AbsolutePath).ToString();
            LastToken = new TestToken(key, issuer, audience, DateTimeOffset.UtcNow).Sign();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", LastToken);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
