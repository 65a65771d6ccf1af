using System.Text.Json.Serialization;

namespace CdsHooks.Fhir;

/// <summary>Source-generated JSON metadata for the FHIR model: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(ResourceJsonConverter)])]
[JsonSerializable(typeof(Resource))]
[JsonSerializable(typeof(Bundle))]
[JsonSerializable(typeof(Patient))]
[JsonSerializable(typeof(Observation))]
[JsonSerializable(typeof(Condition))]
[JsonSerializable(typeof(MedicationRequest))]
[JsonSerializable(typeof(MedicationOrder))]
[JsonSerializable(typeof(MedicationStatement))]
[JsonSerializable(typeof(Medication))]
[JsonSerializable(typeof(MedicationAdministration))]
[JsonSerializable(typeof(AllergyIntolerance))]
[JsonSerializable(typeof(ServiceRequest))]
[JsonSerializable(typeof(OperationOutcome))]
public sealed partial class FhirJsonContext : JsonSerializerContext;
