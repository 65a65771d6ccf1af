using System.Runtime.CompilerServices;
using System.Text.Json;

namespace CdsHooks.Fhir;

/// <summary>
/// The JSON property names of the elements this model reads, as one enum for <see cref="FhirReader"/> to switch on.
/// Each member is its JSON name with the first letter upper-cased (<c>medicationCodeableConcept</c> is
/// <see cref="MedicationCodeableConcept"/>); <see cref="FhirElementNames.JsonName"/> relies on that.
/// </summary>
internal enum FhirElement : byte
{
    /// <summary>Any name the model does not read: skipped, as extensions and unmodelled elements are.</summary>
    Unknown,
    AbatementDateTime, AbatementString, AuthoredOn, BirthDate, Category, ClinicalStatus, Code, Coding, Comparator,
    Contained, Criticality, DataAbsentReason, DateAsserted, DateWritten, DeceasedBoolean, DeceasedDateTime,
    Description, Details, Diagnostics, Display, Div, Dosage, DosageInstruction, EffectiveDateTime, EffectiveInstant,
    EffectivePeriod, Encounter, End, Entry, Expression, Form, FullUrl, Gender, Id, Ingredient, Intent, IsActive,
    Issue, Issued, ItemCodeableConcept, ItemReference, LastOccurrence, LastUpdated, Link, Manifestation,
    MedicationCodeableConcept, MedicationReference, Meta, Note, OnsetDateTime, OnsetPeriod, OnsetString, Patient,
    PatientInstruction, Priority, Reaction, ReasonCode, ReasonCodeableConcept, ReasonReference, RecordedDate,
    Reference, Relation, Requester, Resource, ResourceType, Route, Severity, Start, Status, Subject, Substance,
    System, Text, Total, Type, Unit, Url, Value, ValueCodeableConcept, ValueDateTime, ValueQuantity, ValueString,
    VerificationStatus, Version, VersionId,
}

/// <summary>
/// Maps a property name, as UTF-8 bytes straight from the reader, to a <see cref="FhirElement"/> without allocating:
/// a switch on the length and the first byte leaves one or two candidates, each checked whole. Names are compared
/// exactly (case-sensitive), as the serializer's source-generated metadata compared them.
/// </summary>
internal static class FhirElementNames
{
    /// <summary>Longer than any escaped name worth unescaping on the stack; a longer one is unescaped on the heap.</summary>
    private const int StackNameLength = 256;

    /// <summary>The element named by the property name the reader is on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FhirElement Of(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped || reader.HasValueSequence ? OfUnescaped(ref reader) : Match(reader.ValueSpan);

    /// <summary>
    /// An escaped name (<c>"\u0069d"</c> is <c>id</c>) or one split across buffer segments: compared after unescaping,
    /// which the raw bytes cannot be. Rare, so kept out of the inlined fast path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FhirElement OfUnescaped(ref Utf8JsonReader reader)
    {
        // Unescaping never makes a name longer, so a buffer of the raw length always suffices.
        long rawLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        Span<byte> name = rawLength <= StackNameLength ? stackalloc byte[StackNameLength] : new byte[rawLength];
        int length = reader.CopyString(name);
        return Match(name[..length]);
    }

    /// <summary>The JSON name of <paramref name="element"/>, for error messages.</summary>
    public static string JsonName(FhirElement element)
    {
        var name = element.ToString();
        return string.Concat(char.ToLowerInvariant(name[0]).ToString(), name.AsSpan(1));
    }

    public static FhirElement Match(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Is(name, "id"u8, FhirElement.Id),
        3 => name[0] switch
        {
            (byte)'d' => Is(name, "div"u8, FhirElement.Div),
            (byte)'e' => Is(name, "end"u8, FhirElement.End),
            (byte)'u' => Is(name, "url"u8, FhirElement.Url),
            _ => FhirElement.Unknown,
        },
        4 => name[0] switch
        {
            (byte)'c' => Is(name, "code"u8, FhirElement.Code),
            (byte)'f' => Is(name, "form"u8, FhirElement.Form),
            (byte)'l' => Is(name, "link"u8, FhirElement.Link),
            (byte)'m' => Is(name, "meta"u8, FhirElement.Meta),
            (byte)'n' => Is(name, "note"u8, FhirElement.Note),
            (byte)'t' => Either(name, "text"u8, FhirElement.Text, "type"u8, FhirElement.Type),
            (byte)'u' => Is(name, "unit"u8, FhirElement.Unit),
            _ => FhirElement.Unknown,
        },
        5 => name[0] switch
        {
            (byte)'e' => Is(name, "entry"u8, FhirElement.Entry),
            (byte)'i' => Is(name, "issue"u8, FhirElement.Issue),
            (byte)'r' => Is(name, "route"u8, FhirElement.Route),
            (byte)'s' => Is(name, "start"u8, FhirElement.Start),
            (byte)'t' => Is(name, "total"u8, FhirElement.Total),
            (byte)'v' => Is(name, "value"u8, FhirElement.Value),
            _ => FhirElement.Unknown,
        },
        6 => name[0] switch
        {
            (byte)'c' => Is(name, "coding"u8, FhirElement.Coding),
            (byte)'d' => Is(name, "dosage"u8, FhirElement.Dosage),
            (byte)'g' => Is(name, "gender"u8, FhirElement.Gender),
            (byte)'i' => Either(name, "intent"u8, FhirElement.Intent, "issued"u8, FhirElement.Issued),
            (byte)'s' => Either(name, "status"u8, FhirElement.Status, "system"u8, FhirElement.System),
            _ => FhirElement.Unknown,
        },
        7 => name[0] switch
        {
            (byte)'d' => Either(name, "display"u8, FhirElement.Display, "details"u8, FhirElement.Details),
            (byte)'f' => Is(name, "fullUrl"u8, FhirElement.FullUrl),
            (byte)'p' => Is(name, "patient"u8, FhirElement.Patient),
            (byte)'s' => Is(name, "subject"u8, FhirElement.Subject),
            (byte)'v' => Is(name, "version"u8, FhirElement.Version),
            _ => FhirElement.Unknown,
        },
        8 => name[0] switch
        {
            (byte)'c' => Is(name, "category"u8, FhirElement.Category),
            (byte)'i' => Is(name, "isActive"u8, FhirElement.IsActive),
            (byte)'p' => Is(name, "priority"u8, FhirElement.Priority),
            (byte)'r' => name[2] == (byte)'a'
                ? Is(name, "reaction"u8, FhirElement.Reaction)
                : Either(name, "resource"u8, FhirElement.Resource, "relation"u8, FhirElement.Relation),
            (byte)'s' => Is(name, "severity"u8, FhirElement.Severity),
            _ => FhirElement.Unknown,
        },
        9 => name[0] switch
        {
            (byte)'b' => Is(name, "birthDate"u8, FhirElement.BirthDate),
            (byte)'c' => Is(name, "contained"u8, FhirElement.Contained),
            (byte)'e' => Is(name, "encounter"u8, FhirElement.Encounter),
            (byte)'r' => Either(name, "reference"u8, FhirElement.Reference, "requester"u8, FhirElement.Requester),
            (byte)'s' => Is(name, "substance"u8, FhirElement.Substance),
            (byte)'v' => Is(name, "versionId"u8, FhirElement.VersionId),
            _ => FhirElement.Unknown,
        },
        10 => name[0] switch
        {
            (byte)'a' => Is(name, "authoredOn"u8, FhirElement.AuthoredOn),
            (byte)'c' => Is(name, "comparator"u8, FhirElement.Comparator),
            (byte)'e' => Is(name, "expression"u8, FhirElement.Expression),
            (byte)'i' => Is(name, "ingredient"u8, FhirElement.Ingredient),
            (byte)'r' => Is(name, "reasonCode"u8, FhirElement.ReasonCode),
            _ => FhirElement.Unknown,
        },
        11 => name[0] switch
        {
            (byte)'c' => Is(name, "criticality"u8, FhirElement.Criticality),
            (byte)'d' => name[1] == (byte)'a'
                ? Is(name, "dateWritten"u8, FhirElement.DateWritten)
                : Either(name, "diagnostics"u8, FhirElement.Diagnostics, "description"u8, FhirElement.Description),
            (byte)'l' => Is(name, "lastUpdated"u8, FhirElement.LastUpdated),
            (byte)'o' => Either(name, "onsetPeriod"u8, FhirElement.OnsetPeriod, "onsetString"u8, FhirElement.OnsetString),
            (byte)'v' => Is(name, "valueString"u8, FhirElement.ValueString),
            _ => FhirElement.Unknown,
        },
        12 => name[0] switch
        {
            (byte)'d' => Is(name, "dateAsserted"u8, FhirElement.DateAsserted),
            (byte)'r' => Either(name, "resourceType"u8, FhirElement.ResourceType, "recordedDate"u8, FhirElement.RecordedDate),
            _ => FhirElement.Unknown,
        },
        13 => name[0] switch
        {
            (byte)'i' => Is(name, "itemReference"u8, FhirElement.ItemReference),
            (byte)'m' => Is(name, "manifestation"u8, FhirElement.Manifestation),
            (byte)'o' => Is(name, "onsetDateTime"u8, FhirElement.OnsetDateTime),
            (byte)'v' => Either(name, "valueQuantity"u8, FhirElement.ValueQuantity, "valueDateTime"u8, FhirElement.ValueDateTime),
            _ => FhirElement.Unknown,
        },
        14 => Either(name, "clinicalStatus"u8, FhirElement.ClinicalStatus, "lastOccurrence"u8, FhirElement.LastOccurrence),
        15 => name[0] switch
        {
            (byte)'a' => Is(name, "abatementString"u8, FhirElement.AbatementString),
            (byte)'r' => Is(name, "reasonReference"u8, FhirElement.ReasonReference),
            (byte)'d' => Is(name, "deceasedBoolean"u8, FhirElement.DeceasedBoolean),
            (byte)'e' => Is(name, "effectivePeriod"u8, FhirElement.EffectivePeriod),
            _ => FhirElement.Unknown,
        },
        16 => name[0] switch
        {
            (byte)'d' => Either(name, "deceasedDateTime"u8, FhirElement.DeceasedDateTime, "dataAbsentReason"u8, FhirElement.DataAbsentReason),
            (byte)'e' => Is(name, "effectiveInstant"u8, FhirElement.EffectiveInstant),
            _ => FhirElement.Unknown,
        },
        17 => name[0] switch
        {
            (byte)'a' => Is(name, "abatementDateTime"u8, FhirElement.AbatementDateTime),
            (byte)'d' => Is(name, "dosageInstruction"u8, FhirElement.DosageInstruction),
            (byte)'e' => Is(name, "effectiveDateTime"u8, FhirElement.EffectiveDateTime),
            _ => FhirElement.Unknown,
        },
        18 => name[0] switch
        {
            (byte)'p' => Is(name, "patientInstruction"u8, FhirElement.PatientInstruction),
            (byte)'v' => Is(name, "verificationStatus"u8, FhirElement.VerificationStatus),
            _ => FhirElement.Unknown,
        },
        19 => name[0] switch
        {
            (byte)'i' => Is(name, "itemCodeableConcept"u8, FhirElement.ItemCodeableConcept),
            (byte)'m' => Is(name, "medicationReference"u8, FhirElement.MedicationReference),
            _ => FhirElement.Unknown,
        },
        20 => Is(name, "valueCodeableConcept"u8, FhirElement.ValueCodeableConcept),
        21 => Is(name, "reasonCodeableConcept"u8, FhirElement.ReasonCodeableConcept),
        25 => Is(name, "medicationCodeableConcept"u8, FhirElement.MedicationCodeableConcept),
        _ => FhirElement.Unknown,
    };

    private static FhirElement Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> candidate, FhirElement element) =>
        name.SequenceEqual(candidate) ? element : FhirElement.Unknown;

    private static FhirElement Either(ReadOnlySpan<byte> name, ReadOnlySpan<byte> first, FhirElement firstElement,
        ReadOnlySpan<byte> second, FhirElement secondElement) =>
        name.SequenceEqual(first) ? firstElement : Is(name, second, secondElement);
}
