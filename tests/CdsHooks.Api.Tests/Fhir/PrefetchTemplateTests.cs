using CdsHooks.Fhir;

namespace CdsHooks.Api.Tests.Fhir;

public sealed class PrefetchTemplateTests
{
    private static readonly Dictionary<string, string?> Context = new()
    {
        ["patientId"] = "pat-1",
        ["userId"] = "Practitioner/doc-7",
        ["encounterId"] = null,
    };

    [Theory]
    [InlineData("Patient/{{context.patientId}}", "Patient/pat-1")]
    [InlineData("Observation?patient={{context.patientId}}&code=http://loinc.org|2276-4&_count=50", "Observation?patient=pat-1&code=http://loinc.org|2276-4&_count=50")]
    [InlineData("Practitioner/{{userPractitionerId}}", "Practitioner/doc-7")]
    [InlineData("PractitionerRole?practitioner={{context.userId}}", "PractitionerRole?practitioner=Practitioner%2Fdoc-7")]
    [InlineData("Patient/{{ context.patientId }}", "Patient/pat-1")]
    [InlineData("metadata", "metadata")]
    public void TryRender_KnownTokens_Filled(string template, string expected)
    {
        Assert.True(PrefetchTemplate.TryRender(template, Context, out var query, out _));
        Assert.Equal(expected, query);
    }

    [Theory]
    [InlineData("Encounter/{{context.encounterId}}", "context.encounterId")]
    [InlineData("Patient/{{userPatientId}}", "userPatientId")]
    [InlineData("Observation?date=gt{{today()}}", "today()")]
    [InlineData("Observation?x={{context.unknown}}", "context.unknown")]
    public void TryRender_TokenWithoutValue_NotRendered(string template, string token)
    {
        Assert.False(PrefetchTemplate.TryRender(template, Context, out _, out var unfilled));
        Assert.Equal(token, unfilled);
    }

    [Fact]
    public void TryRender_ValueWithQuerySyntax_CannotAddParameters()
    {
        var context = new Dictionary<string, string?> { ["patientId"] = "1&_include=*" };
        Assert.True(PrefetchTemplate.TryRender("Observation?patient={{context.patientId}}", context, out var query, out _));
        Assert.Equal("Observation?patient=1%26_include%3D%2A", query);
    }
}
