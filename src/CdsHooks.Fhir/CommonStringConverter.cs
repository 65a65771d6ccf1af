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
    private static readonly string[] Known =
    [
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
    ];

    /// <summary>
    /// The known strings as UTF-8, by byte length: a value is compared, straight from the reader's bytes, only with
    /// the few of its own length (and, within those, only with the ones starting with its first byte).
    /// </summary>
    private static readonly (byte[] Utf8, string Value)[][] KnownByLength = GroupByLength(Known);

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? ReadString(ref reader) : reader.GetString(); // the usual error for a non-string token

    /// <summary>The string token the reader is on: the shared instance when it is a common one, else a new string.</summary>
    internal static string ReadString(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            var utf8 = reader.ValueSpan;
            if (utf8.Length > 0 && utf8.Length < KnownByLength.Length)
            {
                foreach (var (candidate, value) in KnownByLength[utf8.Length])
                {
                    if (candidate[0] == utf8[0] && utf8.SequenceEqual(candidate)) return value;
                }
            }
        }
        return reader.GetString()!;
    }

    private static (byte[] Utf8, string Value)[][] GroupByLength(string[] known)
    {
        var utf8 = known.Select(s => (Utf8: Encoding.UTF8.GetBytes(s), Value: s)).ToList();
        var byLength = new (byte[] Utf8, string Value)[utf8.Max(k => k.Utf8.Length) + 1][];
        for (int length = 0; length < byLength.Length; length++)
        {
            byLength[length] = [.. utf8.Where(k => k.Utf8.Length == length)];
        }
        return byLength;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
