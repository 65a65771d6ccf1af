using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using Hl7.Fhir.Validation;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// What Firely made of one resource's JSON (null when it cannot read it even leniently), and what its strict reading
/// found wrong with it (nothing: conformant).
/// </summary>
public sealed record FirelyRead(Resource? Resource, IReadOnlyList<CodedException> StrictIssues)
{
    public bool Conformant => StrictIssues.Count == 0;
}

/// <summary>
/// The Firely SDK (Hl7.Fhir.R4) as the independent reader: strict first (every FHIR JSON and cardinality rule); when
/// that refuses, the <c>SyntaxOnly</c> mode, which reads non-conformant but real input (unknown elements, missing
/// required elements) as far as it goes, for the fields to be compared.
/// </summary>
public static class FirelyOracle
{
    public static FirelyRead Read(string json)
    {
        var (strict, issues) = TryRead(FhirJsonDeserializer.STRICT, json);
        if (issues.Count == 0) return new FirelyRead(strict, []);
        var (lenient, _) = TryRead(FhirJsonDeserializer.SYNTAXONLY, json);
        return new FirelyRead(lenient, issues);
    }

    /// <summary>
    /// Firely 6.8's TryDeserializeResource can throw instead of returning false: a single object in <c>contained</c>
    /// makes its own invariant check read the property, which throws PVAL127. That counts as a refusal here.
    /// </summary>
    private static (Resource? Resource, IReadOnlyList<CodedException> Issues) TryRead(FhirJsonDeserializer deserializer, string json)
    {
        try
        {
            return deserializer.TryDeserializeResource(json, out var resource, out var issues) ? (resource, []) : (resource, [.. issues]);
        }
        catch (CodedValidationException ex)
        {
            return (null, [ex]);
        }
    }

    public static string Describe(CodedException issue) => $"{issue.ErrorCode}: {issue.Message}";
}
