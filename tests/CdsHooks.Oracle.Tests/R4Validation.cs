using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using Hl7.Fhir.Validation;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// FHIR R4 validation with the Firely SDK, offline: what an EHR's FHIR server would check before accepting a resource.
/// Three steps, each reported: the strict parser (FHIR JSON rules, unknown elements, primitive formats, cardinality of
/// what it reads), Firely's POCO validation (cardinality, required elements, the codes of required bindings the model
/// has enums for) and the profile validator (Firely.Fhir.Validation.R4 against the core StructureDefinitions of
/// specification.zip: cardinality, types, invariants such as ref-1, and required value sets of the core spec,
/// expanded locally). Codes from LOINC, SNOMED CT or RxNorm cannot be checked without a terminology server; their
/// bindings on the resources the service writes are example or preferred, so nothing requires them.
/// Building the validator reads specification.zip (seconds), so tests share one through a class fixture.
/// </summary>
public sealed class R4Validation
{
    private readonly Validator _validator;

    public R4Validation()
    {
        var specification = ZipSource.CreateValidationSource();
        var resolver = new CachedResolver(new SnapshotSource(new CachedResolver(specification)));
        _validator = new Validator(resolver, LocalTerminologyService.CreateDefaultForCore(resolver), null, null, null);
    }

    /// <summary>Every error, fatal issue and warning about <paramref name="json"/>, each prefixed with the step that found it.</summary>
    public Outcome Validate(string json)
    {
        var outcome = new Outcome();
        if (!FhirJsonDeserializer.STRICT.TryDeserializeResource(json, out var resource, out var parseIssues))
        {
            outcome.Errors.AddRange(parseIssues.Select(i => "parse: " + FirelyOracle.Describe(i)));
            return outcome;
        }
        outcome.Errors.AddRange(resource!.Validate(NarrativeValidationKind.FhirXhtml, null).Select(i => "POCO: " + FirelyOracle.Describe(i)));
        foreach (var issue in _validator.Validate(resource, null).Issue)
        {
            var text = $"profile: {issue.Severity} {issue.Code} {issue.Details?.Text} at {string.Join(", ", issue.Expression)}";
            if (issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal) outcome.Errors.Add(text);
            else if (issue.Severity == OperationOutcome.IssueSeverity.Warning) outcome.Warnings.Add(text);
        }
        return outcome;
    }

    public sealed class Outcome
    {
        public List<string> Errors { get; } = [];
        public List<string> Warnings { get; } = [];
    }
}
