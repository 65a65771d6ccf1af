using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsHooks.Fhir;

/// <summary>
/// Reads the strings that recur in every FHIR payload (code system URIs, statuses, category codes, UCUM units)
/// as one shared instance instead of a new string each time: a realistic prefetch repeats
/// <c>http://loinc.org</c> or <c>http://unitsofmeasure.org</c> dozens of times. Any other value is read as usual.
/// </summary>
public sealed class CommonStringConverter : JsonConverter<string>
{
    private const int MaxLength = 80;

    private static readonly FrozenDictionary<string, string> Known = new[]
    {
        FhirSystems.Loinc, FhirSystems.Snomed, FhirSystems.RxNorm, FhirSystems.Atc, FhirSystems.Icd10Cm, FhirSystems.Icd10,
        FhirSystems.Icd9Cm, FhirSystems.Ucum, FhirSystems.ConditionClinical, FhirSystems.ConditionVerification,
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "http://terminology.hl7.org/CodeSystem/condition-category",
        "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
        "http://terminology.hl7.org/CodeSystem/medication-statement-category",
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
        // statuses, intents, bundle types, category and interpretation codes
        "final", "amended", "corrected", "preliminary", "registered", "cancelled", "entered-in-error", "unknown",
        "active", "inactive", "resolved", "recurrence", "relapse", "remission", "confirmed", "unconfirmed", "provisional",
        "refuted", "draft", "completed", "stopped", "on-hold", "revoked", "intended", "not-taken", "order", "plan",
        "proposal", "searchset", "collection", "laboratory", "problem-list-item", "encounter-diagnosis", "community",
        "inpatient", "outpatient", "H", "L", "N",
        // UCUM units of the labs and doses this service reads
        "ng/mL", "ug/L", "pmol/L", "%", "ug/dL", "umol/L", "mg/dL", "mg/L", "g/dL", "g/L", "mmol/L", "d", "mg",
        "{tbl}", "{cap}",
    }.ToFrozenDictionary(s => s, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> KnownBySpan =
        Known.GetAlternateLookup<ReadOnlySpan<char>>();

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence
            && reader.ValueSpan.Length <= MaxLength)
        {
            Span<char> chars = stackalloc char[MaxLength];
            var length = Encoding.UTF8.GetChars(reader.ValueSpan, chars);
            if (KnownBySpan.TryGetValue(chars[..length], out var known)) return known;
        }
        return reader.GetString(); // also the usual error for a non-string token
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
