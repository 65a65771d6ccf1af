using CdsHooks.Protocol;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// What a card needs to know about the call it answers: ids for suggestions and stable uuids, and where this
/// service's explanation pages are (an absolute base URL, e.g. <c>https://cds.example.org</c>; none: no link).
/// </summary>
public sealed record CardContext(
    string ServiceId,
    string HookInstance,
    HookKind Hook,
    string PatientId,
    string? EncounterId,
    string? UserId,
    string? ExplainBaseUrl = null);

/// <summary>Code systems this service defines for its own codes.</summary>
public static class ServiceCodeSystems
{
    public const string CardKind = "urn:rls-iron-cds:card-kind";
    public const string OverrideReason = "urn:rls-iron-cds:override-reason";
}
