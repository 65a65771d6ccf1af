using System.Text.Json.Serialization;

namespace CdsHooks.Fhir;

/// <summary>Base of every FHIR resource. JSON (de)serialisation dispatches on <c>resourceType</c> via <see cref="ResourceJsonConverter"/>.</summary>
public abstract class Resource
{
    // resourceType first (FHIR JSON). Each override repeats the order: the source generator reads the attribute
    // from the most derived declaration, so without it "id" would be written before "resourceType".
    [JsonPropertyOrder(-10)]
    public abstract string ResourceType { get; }

    [JsonPropertyOrder(-9)]
    public string? Id { get; set; }

    [JsonPropertyOrder(-8)]
    public Meta? Meta { get; set; }

    /// <summary>"Type/id", the form CDS Hooks uses in <c>selections</c>.</summary>
    [JsonIgnore]
    public string? TypedId => Id is null ? null : ResourceType + "/" + Id;
}

public abstract class DomainResource : Resource
{
    [JsonPropertyOrder(-7)]
    public Narrative? Text { get; set; }

    [JsonConverter(typeof(TolerantListConverter<Resource>))]
    public List<Resource>? Contained { get; set; }

    /// <summary>Resolves a local reference such as <c>#med1</c> against <see cref="Contained"/>.</summary>
    public Resource? FindContained(string localReference)
    {
        if (Contained is null || localReference.Length < 2 || localReference[0] != '#') return null;
        var id = localReference.AsSpan(1);
        foreach (var r in Contained)
        {
            if (id.SequenceEqual(r.Id)) return r;
        }
        return null;
    }
}

/// <summary>A resource type this model does not know (NutritionOrder, ...). Kept so selections can point at it.</summary>
public sealed class UnknownResource : Resource
{
    private readonly string _resourceType;

    public UnknownResource(string resourceType) => _resourceType = resourceType;

    [JsonPropertyOrder(-10)]
    public override string ResourceType => _resourceType;
}

public sealed class Bundle : Resource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "Bundle";
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Type { get; set; }
    public int? Total { get; set; }
    [JsonConverter(typeof(TolerantListConverter<BundleLink>))]
    public List<BundleLink>? Link { get; set; }
    [JsonConverter(typeof(TolerantListConverter<BundleEntry>))]
    public List<BundleEntry>? Entry { get; set; }

    /// <summary>The URL of the next page, when the server paged the result.</summary>
    public string? NextLink()
    {
        if (Link is null) return null;
        foreach (var l in Link)
        {
            if (l.Relation == "next" && !string.IsNullOrEmpty(l.Url)) return l.Url;
        }
        return null;
    }

    public IEnumerable<T> ResourcesOf<T>() where T : Resource
    {
        if (Entry is null) yield break;
        foreach (var e in Entry)
        {
            if (e.Resource is T t) yield return t;
        }
    }
}

public sealed class BundleLink
{
    public string? Relation { get; set; }
    public string? Url { get; set; }
}

public sealed class BundleEntry
{
    public string? FullUrl { get; set; }
    public Resource? Resource { get; set; }
}

public sealed class Patient : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "Patient";
    public string? Gender { get; set; }
    public string? BirthDate { get; set; }
    public bool? DeceasedBoolean { get; set; }
    public string? DeceasedDateTime { get; set; }
}

public sealed class Observation : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "Observation";
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Status { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? Category { get; set; }
    public CodeableConcept? Code { get; set; }
    public Reference? Subject { get; set; }

    // effective[x]
    public string? EffectiveDateTime { get; set; }
    public Period? EffectivePeriod { get; set; }
    public string? EffectiveInstant { get; set; }
    public string? Issued { get; set; }

    // value[x]: the choices a lab result, a pregnancy status or an estimated delivery date can take
    public Quantity? ValueQuantity { get; set; }
    public string? ValueString { get; set; }
    public CodeableConcept? ValueCodeableConcept { get; set; }
    public string? ValueDateTime { get; set; }
    public CodeableConcept? DataAbsentReason { get; set; }

    /// <summary>The clinically relevant time: effective[x], falling back to issued (FHIR R4 Observation).</summary>
    public DateTimeOffset? When()
    {
        return FhirDateTime.TryParse(EffectiveDateTime)
            ?? FhirDateTime.TryParse(EffectiveInstant)
            ?? FhirDateTime.TryParse(EffectivePeriod?.End)
            ?? FhirDateTime.TryParse(EffectivePeriod?.Start)
            ?? FhirDateTime.TryParse(Issued);
    }
}

public sealed class Condition : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "Condition";
    public CodeableConcept? ClinicalStatus { get; set; }
    public CodeableConcept? VerificationStatus { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? Category { get; set; }
    public CodeableConcept? Code { get; set; }
    public Reference? Subject { get; set; }

    // onset[x]
    public string? OnsetDateTime { get; set; }
    public Period? OnsetPeriod { get; set; }
    public string? OnsetString { get; set; }
    public string? RecordedDate { get; set; }

    // abatement[x]
    public string? AbatementDateTime { get; set; }
    public string? AbatementString { get; set; }
}

/// <summary>Shared by MedicationRequest and MedicationStatement: the medication[x] choice.</summary>
public abstract class MedicationUse : DomainResource
{
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Status { get; set; }
    public CodeableConcept? MedicationCodeableConcept { get; set; }
    public Reference? MedicationReference { get; set; }
    public Reference? Subject { get; set; }
}

/// <summary>
/// A medication order. Not sealed: <see cref="MedicationOrder"/>, its DSTU2 predecessor, is read into this shape so
/// that code taking draft or active medication orders (<c>is MedicationRequest</c>) takes both.
/// </summary>
public class MedicationRequest : MedicationUse
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "MedicationRequest";
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Intent { get; set; }
    public Reference? Encounter { get; set; }
    public string? AuthoredOn { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Dosage>))]
    public List<Dosage>? DosageInstruction { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? ReasonCode { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Reference>))]
    public List<Reference>? ReasonReference { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Annotation>))]
    public List<Annotation>? Note { get; set; }
}

/// <summary>
/// A DSTU2 (FHIR 1.0.2) MedicationOrder, the resource STU3 renamed MedicationRequest. EHRs on DSTU2 send draft
/// orders this way, and so does the CDS Hooks Sandbox whenever its FHIR server is DSTU2 (its default one is).
/// It is read into the <see cref="MedicationRequest"/> shape — <c>patient</c> as <see cref="MedicationUse.Subject"/>,
/// <c>dateWritten</c> as <see cref="MedicationRequest.AuthoredOn"/>, <c>reasonCodeableConcept</c> as the one
/// <see cref="MedicationRequest.ReasonCode"/>, the string <c>note</c> as the one <see cref="MedicationRequest.Note"/>;
/// status, medication[x], dosageInstruction and contained have the same names — and keeps its own resourceType, so
/// <see cref="Resource.TypedId"/> is <c>MedicationOrder/{id}</c>: what the EHR's <c>selections</c> name and what a
/// delete action's <c>resourceId</c> must name. Written (never sent anywhere) in that R4 shape.
/// </summary>
public sealed class MedicationOrder : MedicationRequest
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "MedicationOrder";
}

public sealed class MedicationStatement : MedicationUse
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "MedicationStatement";
    public string? EffectiveDateTime { get; set; }
    public Period? EffectivePeriod { get; set; }
    public string? DateAsserted { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Dosage>))]
    public List<Dosage>? Dosage { get; set; }
}

/// <summary>A dose given (an infusion in clinic, a dose on the ward): the record of iron that was actually given.</summary>
public sealed class MedicationAdministration : MedicationUse
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "MedicationAdministration";
    // effective[x]
    public string? EffectiveDateTime { get; set; }
    public Period? EffectivePeriod { get; set; }
}

/// <summary>An allergy or intolerance (FHIR R4). Note <c>patient</c>, not <c>subject</c>.</summary>
public sealed class AllergyIntolerance : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "AllergyIntolerance";
    public CodeableConcept? ClinicalStatus { get; set; }
    public CodeableConcept? VerificationStatus { get; set; }
    /// <summary>allergy | intolerance</summary>
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Type { get; set; }
    /// <summary>food | medication | environment | biologic</summary>
    [JsonConverter(typeof(TolerantListConverter<string>))]
    public List<string>? Category { get; set; }
    /// <summary>low | high | unable-to-assess</summary>
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Criticality { get; set; }
    public CodeableConcept? Code { get; set; }
    public Reference? Patient { get; set; }
    public string? OnsetDateTime { get; set; }
    public string? RecordedDate { get; set; }
    public string? LastOccurrence { get; set; }
    [JsonConverter(typeof(TolerantListConverter<AllergyReaction>))]
    public List<AllergyReaction>? Reaction { get; set; }
}

public sealed class AllergyReaction
{
    public CodeableConcept? Substance { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? Manifestation { get; set; }
    public string? Description { get; set; }
    /// <summary>mild | moderate | severe</summary>
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Severity { get; set; }
}

public sealed class Medication : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "Medication";
    public CodeableConcept? Code { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Status { get; set; }
    public CodeableConcept? Form { get; set; }
    [JsonConverter(typeof(TolerantListConverter<MedicationIngredient>))]
    public List<MedicationIngredient>? Ingredient { get; set; }
}

public sealed class MedicationIngredient
{
    // item[x]
    public CodeableConcept? ItemCodeableConcept { get; set; }
    public Reference? ItemReference { get; set; }
    public bool? IsActive { get; set; }
}

public sealed class ServiceRequest : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "ServiceRequest";
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Status { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Intent { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? Category { get; set; }
    public string? Priority { get; set; }
    public CodeableConcept? Code { get; set; }
    public Reference? Subject { get; set; }
    public Reference? Encounter { get; set; }
    public string? AuthoredOn { get; set; }
    public Reference? Requester { get; set; }
    [JsonConverter(typeof(TolerantListConverter<CodeableConcept>))]
    public List<CodeableConcept>? ReasonCode { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Reference>))]
    public List<Reference>? ReasonReference { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Annotation>))]
    public List<Annotation>? Note { get; set; }
    public string? PatientInstruction { get; set; }
}

public sealed class OperationOutcome : DomainResource
{
    [JsonPropertyOrder(-10)]
    public override string ResourceType => "OperationOutcome";
    [JsonConverter(typeof(TolerantListConverter<OperationOutcomeIssue>))]
    public List<OperationOutcomeIssue>? Issue { get; set; }

    public static OperationOutcome Single(string severity, string code, string diagnostics, params string[] expression) => new()
    {
        Issue = [new OperationOutcomeIssue { Severity = severity, Code = code, Diagnostics = diagnostics, Expression = expression.Length > 0 ? [.. expression] : null }],
    };
}

public sealed class OperationOutcomeIssue
{
    /// <summary>fatal | error | warning | information</summary>
    public string? Severity { get; set; }
    /// <summary>An IssueType code: invalid, not-found, processing, timeout, security, ...</summary>
    public string? Code { get; set; }
    public CodeableConcept? Details { get; set; }
    public string? Diagnostics { get; set; }
    public List<string>? Expression { get; set; }
}
