using System.Net;
using System.Text.Json;

namespace CdsHooks.Api.Tests;

public sealed class DiscoveryTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    [Fact]
    public async Task Discovery_ListsOneServicePerHook_WithPrefetchTemplates()
    {
        using var response = await host.Client.GetAsync("/cds-services");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(json);
        CardAssertions.AssertNoEmptyValues(doc.RootElement, "$");

        var services = doc.RootElement.GetProperty("services").EnumerateArray().ToList();
        Assert.Equal(["order-select", "order-sign", "patient-view"], services.Select(s => s.GetProperty("hook").GetString()).Order());
        foreach (var s in services)
        {
            Assert.False(string.IsNullOrWhiteSpace(s.GetProperty("id").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(s.GetProperty("title").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(s.GetProperty("description").GetString()));
            var prefetch = s.GetProperty("prefetch");
            Assert.Equal("Patient/{{context.patientId}}", prefetch.GetProperty("patient").GetString());
            var labs = prefetch.GetProperty("ironLabs").GetString()!;
            Assert.StartsWith("Observation?patient={{context.patientId}}&code=", labs);
            Assert.Contains("http://loinc.org|2276-4", labs);
            Assert.Contains("http://loinc.org|2502-3", labs);
            Assert.Contains("_sort=-date", labs);
            Assert.Contains("1988-5", prefetch.GetProperty("crpAndHemoglobin").GetString());
            Assert.Contains("718-7", prefetch.GetProperty("crpAndHemoglobin").GetString());
            Assert.Equal("MedicationStatement?patient={{context.patientId}}&status=active", prefetch.GetProperty("medicationStatements").GetString());
            Assert.Equal("MedicationRequest?patient={{context.patientId}}&status=active", prefetch.GetProperty("medicationRequests").GetString());
            var conditions = prefetch.GetProperty("conditions").GetString()!;
            Assert.Contains("http://snomed.info/sct|32914008", conditions);
            Assert.Contains("http://hl7.org/fhir/sid/icd-10-cm|G25.81", conditions);
            Assert.Contains("F41.1", conditions);
        }
    }

    [Fact]
    public async Task Discovery_UsageRequirements_SayTheFhirServerIsReadWithoutATokenWhenNoneIsSent()
    {
        using var doc = JsonDocument.Parse(await host.Client.GetStringAsync("/cds-services"));

        // What SandboxFallbackTests shows the service doing: no fhirAuthorization, the allowlisted fhirServer read without one.
        Assert.All(doc.RootElement.GetProperty("services").EnumerateArray(), s =>
        {
            var requirements = s.GetProperty("usageRequirements").GetString()!;
            Assert.Contains("allowlist", requirements, StringComparison.Ordinal);
            Assert.Contains("else without a token", requirements, StringComparison.Ordinal);
        });
    }
}
