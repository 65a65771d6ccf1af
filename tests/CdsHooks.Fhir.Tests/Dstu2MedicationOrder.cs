using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CdsHooks.Fhir;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// A DSTU2 MedicationOrder under its own element names (FHIR 1.0.2), the elements <see cref="MedicationOrder"/>
/// keeps, for source-generated metadata to read and write. Read by <see cref="MetadataReading"/> and mapped with
/// <see cref="ToModel"/> as <see cref="MedicationOrder"/>'s documentation says, it is the reference the hand-written
/// reader is compared with; written, it puts a DSTU2 order into <see cref="EveryElement"/>.
/// </summary>
internal sealed class Dstu2MedicationOrder
{
    [JsonPropertyOrder(-10)]
    public string ResourceType => "MedicationOrder";

    public string? Id { get; set; }
    public Meta? Meta { get; set; }
    public Narrative? Text { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Resource>))]
    public List<Resource>? Contained { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Status { get; set; }
    public CodeableConcept? MedicationCodeableConcept { get; set; }
    public Reference? MedicationReference { get; set; }
    public Reference? Patient { get; set; }
    public string? DateWritten { get; set; }
    [JsonConverter(typeof(TolerantListConverter<Dosage>))]
    public List<Dosage>? DosageInstruction { get; set; }
    public CodeableConcept? ReasonCodeableConcept { get; set; }
    public string? Note { get; set; }

    public MedicationOrder ToModel() => new()
    {
        Id = Id,
        Meta = Meta,
        Text = Text,
        Contained = Contained,
        Status = Status,
        MedicationCodeableConcept = MedicationCodeableConcept,
        MedicationReference = MedicationReference,
        Subject = Patient,
        AuthoredOn = DateWritten,
        DosageInstruction = DosageInstruction,
        ReasonCode = ReasonCodeableConcept is null ? null : [ReasonCodeableConcept],
        Note = Note is null ? null : [new Annotation { Text = Note }],
    };

    /// <summary>The FHIR options with this type resolvable too (the model's types still resolve from the model's own metadata).</summary>
    public static JsonSerializerOptions WithDstu2(JsonSerializerOptions options) => new(options)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(FhirJsonContext.Default, Dstu2JsonContext.Default),
    };
}

/// <summary>The source generator's options of <see cref="FhirJsonContext"/>, for the DSTU2 reference type.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(Dstu2MedicationOrder))]
internal sealed partial class Dstu2JsonContext : JsonSerializerContext;
