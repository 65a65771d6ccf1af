using System.Text.Json;
using CdsHooks.Fhir;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// Valid FHIR R4 that Firely reads and the service's model leaves out, each asserted so that it stays known: choice
/// types the model has no member for. Each row says what the service does instead.
/// </summary>
public sealed class DocumentedDifferenceTests
{
    [Theory]
    // Condition.abatement[x] is dateTime | Age | Period | Range | string; the model keeps dateTime and string. The rules
    // look at abatement only when clinicalStatus is absent, which FHIR R4 forbids for an abated condition (con-4), so
    // such an RLS diagnosis counts as active.
    [InlineData("""{"resourceType": "Condition", "abatementAge": {"value": 60, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}, "subject": {"reference": "Patient/p"}}""", "Age")]
    [InlineData("""{"resourceType": "Condition", "abatementPeriod": {"start": "2025-01-01"}, "subject": {"reference": "Patient/p"}}""", "Period")]
    [InlineData("""{"resourceType": "Condition", "abatementRange": {"low": {"value": 60}}, "subject": {"reference": "Patient/p"}}""", "Range")]
    public void Condition_AbatementAsAgePeriodOrRange_FirelyReadsIt_ServiceReadsNoAbatement(string json, string firelyType)
    {
        var (firely, service) = Both(json);

        Assert.Equal(firelyType, firely.Abatement);
        Assert.Null(service.Abatement);
    }

    [Theory]
    // Observation.value[x] may be an integer, a Range or a Ratio; the model keeps Quantity, string and CodeableConcept.
    // A ferritin sent as valueInteger is skipped, and the card says "no numeric value".
    [InlineData("""{"resourceType": "Observation", "status": "final", "code": {"text": "Ferritin"}, "valueInteger": 45}""", "integer")]
    [InlineData("""{"resourceType": "Observation", "status": "final", "code": {"text": "Ferritin"}, "valueRatio": {"numerator": {"value": 45}}}""", "Ratio")]
    public void Observation_ValueOfATypeTheModelLacks_FirelyReadsIt_ServiceReadsNoValue(string json, string firelyType)
    {
        var firely = Assert.IsType<Hl7.Fhir.Model.Observation>(FirelyOracle.Read(json).Resource);
        var service = Assert.IsType<Observation>(JsonSerializer.Deserialize(json, FhirJson.ResourceInfo));

        Assert.Equal(firelyType, Assert.IsAssignableFrom<Hl7.Fhir.Model.DataType>(firely.Value).TypeName);
        Assert.Null(service.ValueQuantity);
        Assert.Null(service.ValueString);
    }

    /// <summary>effective[x] as Timing: the model has no Timing, so the result is dated by issued, or skipped without it.</summary>
    [Fact]
    public void Observation_EffectiveTiming_FirelyReadsIt_ServiceDatesTheResultByIssued()
    {
        const string json = """
            {"resourceType": "Observation", "status": "final", "code": {"text": "Ferritin"},
             "effectiveTiming": {"event": ["2026-11-02"]}, "issued": "2026-11-20T09:00:00Z", "valueQuantity": {"value": 45}}
            """;
        var firely = Assert.IsType<Hl7.Fhir.Model.Observation>(FirelyOracle.Read(json).Resource);
        var service = Assert.IsType<Observation>(JsonSerializer.Deserialize(json, FhirJson.ResourceInfo));

        Assert.Equal("2026-11-02", Assert.IsType<Hl7.Fhir.Model.Timing>(firely.Effective).Event.Single());
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero), service.When());
    }

    [Theory]
    // Beyond System.Decimal: the service refuses the request (JsonException, a 400); Firely's strict reading refuses it too.
    [InlineData("1e400")]
    [InlineData("79228162514264337593543950336")]
    public void ValueQuantity_OutOfTheDecimalRange_RefusedByBoth(string number)
    {
        var json = $$$"""{"resourceType": "Observation", "status": "final", "code": {"text": "Ferritin"}, "valueQuantity": {"value": {{{number}}} }}""";

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, FhirJson.ResourceInfo));
        Assert.Contains(FirelyOracle.Read(json).StrictIssues, i => i.ErrorCode == "PVAL123");
    }

    private static (RuleFields Firely, RuleFields Service) Both(string json)
    {
        var read = FirelyOracle.Read(json);
        Assert.True(read.Conformant, string.Join("; ", read.StrictIssues.Select(FirelyOracle.Describe)));
        var service = JsonSerializer.Deserialize(json, FhirJson.ResourceInfo)!;
        return (Assert.Single(FirelyRuleFields.Of(read.Resource!, "r")), Assert.Single(ServiceRuleFields.Of(service, "r")));
    }
}
