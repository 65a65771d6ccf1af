using System.Text.Json.Serialization;
using CdsHooks.Fhir;

namespace CdsHooks.Protocol;

/// <summary>The body of <c>POST /cds-services/{id}</c> (CDS Hooks 2.0 §HTTP Request). Unknown fields are ignored.</summary>
public sealed class CdsRequest
{
    public string? Hook { get; set; }
    public string? HookInstance { get; set; }
    public string? FhirServer { get; set; }
    public FhirAuthorization? FhirAuthorization { get; set; }
    public HookContext? Context { get; set; }

    /// <summary>
    /// Key -> prefetched resource. A key that is present with <c>null</c> means "the client has no data";
    /// an absent key means "not fetched". The two must not be confused.
    /// </summary>
    public Dictionary<string, Resource?>? Prefetch { get; set; }
}

/// <summary>OAuth 2.0 access to the EHR's FHIR server. The token is transient: never stored or logged.</summary>
public sealed class FhirAuthorization
{
    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }

    [JsonPropertyName("token_type")]
    public string? TokenType { get; set; }

    [JsonPropertyName("expires_in")]
    public long? ExpiresIn { get; set; }

    public string? Scope { get; set; }
    public string? Subject { get; set; }
    public string? Patient { get; set; }

    /// <summary>Keeps the token out of logs and debugger displays.</summary>
    public override string ToString() => "FhirAuthorization { access_token = *** }";
}

/// <summary>
/// The union of the context fields of <c>patient-view</c>, <c>order-select</c> and <c>order-sign</c>
/// (cds-hooks-library v1.0.1). Which fields are required depends on the hook; see the request validator.
/// </summary>
public sealed class HookContext
{
    public string? UserId { get; set; }
    public string? PatientId { get; set; }
    public string? EncounterId { get; set; }
    public List<string>? Selections { get; set; }

    /// <summary>Read by the hand-written FHIR reader, as every prefetched resource is.</summary>
    [JsonConverter(typeof(BundleJsonConverter))]
    public Bundle? DraftOrders { get; set; }
}
