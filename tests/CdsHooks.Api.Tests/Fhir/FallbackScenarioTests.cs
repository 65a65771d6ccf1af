using System.Net;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// Every fixture scenario gives exactly the same answer when its prefetch is missing (wholly or partly) or failed and
/// the service reads the stub FHIR server instead, sending the request's bearer token to that server only.
/// </summary>
public sealed class FallbackScenarioTests : IClassFixture<FhirFallbackHost>
{
    private readonly FhirFallbackHost _host;

    public FallbackScenarioTests(FhirFallbackHost host)
    {
        _host = host;
        host.Reset();
    }

    public static TheoryData<string> ScenarioNames() => [.. FixtureFiles.Scenarios().Select(s => s.Name)];

    /// <summary>The keys every service advertises (one FHIR query each when none is prefetched).</summary>
    private const int PrefetchKeyCount = 11;

    /// <summary>
    /// The scenarios whose prefetch holds no key sent as null: a guard key sent as null means "could not check" (the
    /// EHR has no data to give), while the FHIR server answers the same search with an empty Bundle ("nothing
    /// recorded"), so those two cannot give the same cards (see <see cref="GuardKeySentAsNull_ReadFromServer_IsChecked"/>).
    /// </summary>
    public static TheoryData<string> ScenariosWithoutNullKeys() =>
        [.. FixtureFiles.Scenarios().Where(s => !FixtureFiles.ReadFixture(s.Request).Contains("\": null", StringComparison.Ordinal)).Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(ScenariosWithoutNullKeys))]
    public async Task Scenario_WithoutPrefetch_SameCardsFromFhirServer(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        var expected = await _host.PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));

        var answer = await _host.PostAsync(scenario.ServiceId, FallbackRequests.WithoutPrefetch(scenario.Request, _host.Fhir.BaseUrl));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(expected.Body, answer.Body);
        Assert.Equal(scenario.ExpectedTopics.Order().ToArray(), CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body)));
        // One query per key, in parallel; every one carried the token.
        Assert.Equal(PrefetchKeyCount, _host.Fhir.Requests.Count);
        Assert.All(_host.Fhir.Requests, r => Assert.Equal("Bearer " + FhirFallbackHost.AccessToken, r.Authorization));
        Assert.All(_host.Fhir.Requests, r => Assert.Equal("GET", r.Method));
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Scenario_PartialPrefetch_SameCardsReadingOnlyMissingKeys(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        var expected = await _host.PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));

        var answer = await _host.PostAsync(scenario.ServiceId,
            FallbackRequests.WithoutPrefetch(scenario.Request, _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken, "ironLabs", "medicationStatements", "conditions"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(expected.Body, answer.Body);
        Assert.Equal(["Condition", "MedicationStatement", "Observation"], _host.Fhir.Requests.Select(r => r.ResourceType).Order());
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Scenario_PrefetchKeysHoldOperationOutcome_SameCardsFromFhirServer(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        var expected = await _host.PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));

        var answer = await _host.PostAsync(scenario.ServiceId,
            FallbackRequests.WithFailedPrefetch(scenario.Request, _host.Fhir.BaseUrl, "patient", "crpAndHemoglobin", "medicationRequests"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(expected.Body, answer.Body);
        Assert.Equal(["MedicationRequest", "Observation", "Patient"], _host.Fhir.Requests.Select(r => r.ResourceType).Order());
    }

    [Fact]
    public async Task GuardKeySentAsNull_ReadFromServer_IsChecked()
    {
        const string fixture = "requests/patient-view-allergy-list-null.json";
        var withNull = await _host.PostAsync("rls-iron-patient-view", FixtureFiles.ReadFixture(fixture));
        var fromServer = await _host.PostAsync("rls-iron-patient-view", FallbackRequests.WithoutPrefetch(fixture, _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken, "allergies"));

        // Null: the allergy list could not be checked, so no iron order. Read from the server: an empty list, checked.
        Assert.Contains("the allergy list could not be read (the EHR sent no data for it)", withNull.Body);
        Assert.DoesNotContain("MedicationRequest", withNull.Body);
        Assert.Contains("\"resourceType\":\"MedicationRequest\"", fromServer.Body);
        Assert.Equal(["AllergyIntolerance"], _host.Fhir.Requests.Select(r => r.ResourceType));
    }

    [Fact]
    public async Task FullPrefetch_FhirServerAllowlisted_IsNeverContacted()
    {
        var body = FallbackRequests.Load("requests/patient-view-ferritin-pmol.json", _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken).ToJsonString();

        var answer = await _host.PostAsync("rls-iron-patient-view", body);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Empty(_host.Fhir.Requests);
    }

    [Fact]
    public async Task NullPrefetchKey_IsNoData_NeverFetched()
    {
        var request = FallbackRequests.Load("requests/patient-view-ferritin-pmol.json", _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken);
        request["prefetch"]!["medicationStatements"] = null;
        request["prefetch"]!.AsObject().Remove("conditions");

        var answer = await _host.PostAsync("rls-iron-patient-view", request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(["Condition"], _host.Fhir.Requests.Select(r => r.ResourceType));
    }

    [Fact]
    public async Task Queries_UseTheAdvertisedTemplates_WithContextFilledIn()
    {
        var answer = await _host.PostAsync("rls-iron-patient-view",
            FallbackRequests.WithoutPrefetch("requests/patient-view-ferritin-pmol.json", _host.Fhir.BaseUrl));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var requests = _host.Fhir.Requests.Select(r => r.Path + Uri.UnescapeDataString(r.Query)).ToList();
        Assert.Contains("/fhir/Patient/rls-pmol-f50", requests);
        Assert.Contains(requests, r => r.StartsWith("/fhir/Observation?patient=rls-pmol-f50&code=http://loinc.org|2276-4", StringComparison.Ordinal) && r.EndsWith("&_sort=-date&_count=50", StringComparison.Ordinal));
        Assert.Contains("/fhir/MedicationStatement?patient=rls-pmol-f50&status=active", requests);
        Assert.Contains("/fhir/MedicationRequest?patient=rls-pmol-f50&status=active", requests);
        Assert.Contains("/fhir/Condition?patient=rls-pmol-f50&clinical-status=active,recurrence,relapse&_count=100", requests);
        Assert.Contains("/fhir/AllergyIntolerance?patient=rls-pmol-f50&clinical-status=active&_count=100", requests);
        Assert.Contains("/fhir/MedicationAdministration?patient=rls-pmol-f50&status=completed,in-progress&_sort=-effective-time&_count=50", requests);
        Assert.Contains("/fhir/MedicationRequest?patient=rls-pmol-f50&status=completed,stopped&_sort=-authoredon&_count=50", requests);
        Assert.Contains("/fhir/MedicationStatement?patient=rls-pmol-f50&status=completed,stopped&_sort=-effective&_count=50", requests);
        Assert.Contains(requests, r => r.StartsWith("/fhir/Observation?patient=rls-pmol-f50&code=http://loinc.org|2777-1", StringComparison.Ordinal) && r.Contains("|82810-3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoFhirAuthorization_AllowlistedServer_ReadWithoutToken()
    {
        var answer = await _host.PostAsync("rls-iron-patient-view",
            FallbackRequests.WithoutPrefetch("requests/patient-view-ferritin-pmol.json", _host.Fhir.BaseUrl, token: null));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(PrefetchKeyCount, _host.Fhir.Requests.Count);
        Assert.All(_host.Fhir.Requests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task PagedSearch_AllPagesRead_SameCards()
    {
        var fixture = "requests/order-select-sertraline-big-benchmark.json";
        var expected = await _host.PostAsync("rls-iron-order-select", FixtureFiles.ReadFixture(fixture));
        _host.Fhir.PageSize = 3; // 12 iron results: 4 pages, within Fhir:MaxPages (5)

        var answer = await _host.PostAsync("rls-iron-order-select", FallbackRequests.WithoutPrefetch(fixture, _host.Fhir.BaseUrl));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(expected.Body, answer.Body);
        Assert.Contains(_host.Fhir.Requests, r => r.Query.Contains("_page=3", StringComparison.Ordinal));
        Assert.All(_host.Fhir.Requests, r => Assert.Equal("Bearer " + FhirFallbackHost.AccessToken, r.Authorization));
    }

    [Fact]
    public async Task PagedPrefetchBundle_FurtherPagesReadFromServer()
    {
        // The client sent only the first page of the RLS patient's conditions, with a next link to the rest.
        var fixture = "requests/order-select-zoloft-text-low-iron.json";
        var request = FallbackRequests.Load(fixture, _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken);
        var conditions = request["prefetch"]!["conditions"]!.AsObject();
        var entries = conditions["entry"]!.AsArray();
        var anxiety = entries[1]!.DeepClone();
        entries.RemoveAt(1);
        conditions["link"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["relation"] = "next",
            ["url"] = _host.Fhir.BaseUrl.AbsoluteUri + "/Condition?patient=rls-lowiron-f29&_page=2&_count=1",
        });
        var expected = await _host.PostAsync("rls-iron-order-select", FixtureFiles.ReadFixture(fixture));

        var answer = await _host.PostAsync("rls-iron-order-select", request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(expected.Body, answer.Body);
        Assert.Equal(["/fhir/Condition"], _host.Fhir.Requests.Select(r => r.Path));
        Assert.NotNull(anxiety);
    }

    [Fact]
    public async Task MedicationReference_NotInRequest_ReadFromServer()
    {
        // An active MedicationStatement names its drug only through a reference to a Medication on the server.
        const string patient = "rls-medref-f50";
        _host.Fhir.Add(patient, """{"resourceType":"Patient","id":"rls-medref-f50","birthDate":"1976-03-02","gender":"female"}""");
        _host.Fhir.Add(patient, """{"resourceType":"Condition","id":"medref-rls","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"32914008","display":"Restless legs syndrome"}]},"subject":{"reference":"Patient/rls-medref-f50"}}""");
        _host.Fhir.Add(patient, """{"resourceType":"MedicationStatement","id":"medref-ms","status":"active","medicationReference":{"reference":"Medication/med-paroxetine"},"subject":{"reference":"Patient/rls-medref-f50"}}""");
        _host.Fhir.Add(patient, """{"resourceType":"Medication","id":"med-paroxetine","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"32937","display":"paroxetine"}]}}""");
        var request = FallbackRequests.Load("requests/patient-view-active-paroxetine.json", _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken);
        request.Remove("prefetch");
        request["context"]!["patientId"] = patient;

        var answer = await _host.PostAsync("rls-iron-patient-view", request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains("ssri-caution", CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body)));
        Assert.Contains(_host.Fhir.Requests, r => r.Path == "/fhir/Medication/med-paroxetine");
    }

    [Fact]
    public async Task MedicationReference_ServerDoesNotKnowIt_CardNamesTheUnidentifiedMedication()
    {
        const string patient = "rls-medref-missing-m60";
        _host.Fhir.Add(patient, """{"resourceType":"Patient","id":"rls-medref-missing-m60","birthDate":"1966-03-02","gender":"male"}""");
        _host.Fhir.Add(patient, """{"resourceType":"Condition","id":"medref-missing-rls","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"32914008","display":"Restless legs syndrome"}]},"subject":{"reference":"Patient/rls-medref-missing-m60"}}""");
        _host.Fhir.Add(patient, """{"resourceType":"MedicationStatement","id":"medref-missing-ms","status":"active","medicationReference":{"reference":"Medication/med-unknown"},"subject":{"reference":"Patient/rls-medref-missing-m60"}}""");
        var request = FallbackRequests.Load("requests/patient-view-active-paroxetine.json", _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken);
        request.Remove("prefetch");
        request["context"]!["patientId"] = patient;

        var answer = await _host.PostAsync("rls-iron-patient-view", request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(["data-incomplete", "iron-studies"], CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body)));
        Assert.Contains("MedicationStatement/medref-missing-ms: its drug could not be identified (it points at Medication/med-unknown, which could not be read)", answer.Body);
        Assert.Contains("Not available from the EHR: details of some referenced medications", answer.Body);
        Assert.Contains(_host.Fhir.Requests, r => r.Path == "/fhir/Medication/med-unknown");
    }

    [Theory]
    [InlineData("abc\r\nX-Injected: 1")]
    [InlineData("abc def")]
    [InlineData("tök")]
    public async Task AccessTokenNotABearerToken_400_ServerNotContacted(string token)
    {
        var answer = await _host.PostAsync("rls-iron-patient-view",
            FallbackRequests.WithoutPrefetch("requests/patient-view-ferritin-pmol.json", _host.Fhir.BaseUrl, token));

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("fhirAuthorization.access_token", answer.Body);
        Assert.DoesNotContain(token, answer.Body);
        Assert.Empty(_host.Fhir.Requests);
    }
}
