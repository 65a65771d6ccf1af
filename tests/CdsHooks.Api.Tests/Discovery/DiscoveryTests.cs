using System.Net;
using System.Text.Json;

namespace CdsHooks.Api.Tests.Discovery;

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
            // Every active condition, classified in the service (text-only RLS, overload, pregnancy, Parkinson disease).
            Assert.Equal("Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse&_count=100", prefetch.GetProperty("conditions").GetString());
            Assert.Equal("AllergyIntolerance?patient={{context.patientId}}&clinical-status=active&_count=100", prefetch.GetProperty("allergies").GetString());
            Assert.StartsWith("MedicationAdministration?patient={{context.patientId}}&status=completed,in-progress", prefetch.GetProperty("ironAdministrations").GetString());
            Assert.StartsWith("MedicationRequest?patient={{context.patientId}}&status=completed,stopped", prefetch.GetProperty("pastMedicationRequests").GetString());
            Assert.StartsWith("MedicationStatement?patient={{context.patientId}}&status=completed,stopped", prefetch.GetProperty("pastMedicationStatements").GetString());
            var safety = prefetch.GetProperty("safetyObservations").GetString()!;
            foreach (var code in new[] { "2777-1", "82810-3", "49051-6", "11884-4", "18185-9", "11778-8", "33914-3", "98979-8" })
            {
                Assert.Contains("http://loinc.org|" + code, safety);
            }
            // Only the CDS Hooks 2.0 tokens: relative dates (FHIRPath) are not in 2.0.
            foreach (var template in prefetch.EnumerateObject().Select(p => p.Value.GetString()!))
            {
                Assert.DoesNotContain("{{", template.Replace("{{context.patientId}}", "", StringComparison.Ordinal), StringComparison.Ordinal);
            }
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
