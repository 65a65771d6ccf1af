using CdsHooks.Api.Fhir;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>The answer to "may this request's fhirServer be called?": the base to use, or why not.</summary>
public readonly record struct FhirServerCheck(Uri? Base, string? RejectedHost, string? Reason)
{
    public bool Allowed => Base is not null;
}

/// <summary>
/// Our server-side request forgery defence (CDS Hooks 2.0 §Security: <c>fhirServer</c> comes from the caller).
/// A <c>fhirServer</c> is called only when it lies under a configured base URL: same scheme, host (case-insensitive),
/// port, and a path equal to or below the base path at a segment boundary. URLs with user info are never accepted
/// (<c>https://allowed@evil</c> tricks), and every later URL of the call — next pages, Medication reads — must lie
/// under the same <c>fhirServer</c>.
/// </summary>
public sealed class FhirServerAllowlist
{
    private readonly List<Uri> _bases;

    public FhirServerAllowlist(IOptions<FhirOptions> options)
    {
        var o = options.Value;
        _bases = [.. o.AllowedServers.Select(s => ParseBase(s, o.AllowInsecureHttp == true).Base).OfType<Uri>()];
    }

    public bool IsEmpty => _bases.Count == 0;

    /// <summary>Parses an allowlist entry or a request's fhirServer into a normalised base (no trailing slash).</summary>
    public static (Uri? Base, string? Error) ParseBase(string? value, bool allowHttp)
    {
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri))
        {
            return (null, "not an absolute URL.");
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowHttp && uri.Scheme == Uri.UriSchemeHttp))
        {
            return (null, allowHttp ? "must be an http(s) URL." : "must be an https URL (http is allowed only in Development or with Fhir:AllowInsecureHttp=true).");
        }
        if (uri.UserInfo.Length > 0) return (null, "must not contain user info (user@host).");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0) return (null, "must be a base URL without query or fragment.");
        var path = uri.AbsolutePath.TrimEnd('/');
        return (new Uri($"{uri.Scheme}://{uri.Authority}{path}"), null);
    }

    /// <summary>Checks a request's <c>fhirServer</c>. Only the host is reported back (for the log line).</summary>
    public FhirServerCheck Check(string? fhirServer)
    {
        if (string.IsNullOrWhiteSpace(fhirServer)) return new(null, null, "the request has no fhirServer");
        if (!Uri.TryCreate(fhirServer, UriKind.Absolute, out var uri)) return new(null, "(unparseable)", "fhirServer is not a URL");
        var (candidate, error) = ParseBase(fhirServer, allowHttp: true);
        if (candidate is not null)
        {
            foreach (var allowed in _bases)
            {
                if (IsWithin(candidate, allowed)) return new(candidate, null, null);
            }
        }
        return new(null, uri.Host, error is null ? "fhirServer is not on this service's allowlist (Fhir:AllowedServers)" : "fhirServer " + error);
    }

    /// <summary>
    /// True when <paramref name="url"/> is <paramref name="serverBase"/> itself or below it: same scheme, host, port,
    /// no user info, and a path under the base path at a segment boundary (<c>/fhir2</c> is not under <c>/fhir</c>).
    /// </summary>
    public static bool IsWithin(Uri url, Uri serverBase)
    {
        if (!url.IsAbsoluteUri || url.UserInfo.Length > 0) return false;
        if (!string.Equals(url.Scheme, serverBase.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(url.Host, serverBase.Host, StringComparison.OrdinalIgnoreCase)
            || url.Port != serverBase.Port)
        {
            return false;
        }
        var basePath = serverBase.AbsolutePath.TrimEnd('/');
        var path = url.AbsolutePath;
        return basePath.Length == 0
            || (path.StartsWith(basePath, StringComparison.Ordinal) && (path.Length == basePath.Length || path[basePath.Length] == '/'));
    }
}
