using System.Diagnostics;
using OpenTelemetry;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// Cuts what the instrumentation libraries record about URLs down to what is safe to export. FHIR URLs carry patient
/// ids in their paths (<c>Patient/{id}</c>) and queries (<c>?patient={id}</c>), and the libraries' own redaction
/// covers query values only, and only while no environment variable turns it off. So, on every span as it ends:
/// <c>url.full</c> (HttpClient spans) keeps its scheme and authority and loses path and query; <c>url.query</c>
/// (server spans) is dropped. Server paths stay: the service's routes hold service ids and card kinds.
/// </summary>
public sealed class TelemetryRedaction : BaseProcessor<Activity>
{
    public const string UrlFull = "url.full";
    public const string UrlQuery = "url.query";

    public override void OnEnd(Activity data)
    {
        if (data.GetTagItem(UrlFull) is { } full)
        {
            data.SetTag(UrlFull, Uri.TryCreate(full.ToString(), UriKind.Absolute, out var url) ? url.GetLeftPart(UriPartial.Authority) : null);
        }
        if (data.GetTagItem(UrlQuery) is not null) data.SetTag(UrlQuery, null);
    }
}
