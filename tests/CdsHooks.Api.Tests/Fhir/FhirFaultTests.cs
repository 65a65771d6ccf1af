using System.Net;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// Short deadlines so a fault test costs at most about two seconds of real time; nobody sleeps. The attempt timeout
/// leaves room for a loaded CI machine, so a slow answer is not mistaken for a timeout and retried.
/// </summary>
public sealed class FaultHost : FhirFallbackHost
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    protected override IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        .. base.FhirSettings,
        new("Fhir:RequestDeadline", "00:00:02"),
        new("Fhir:AttemptTimeout", "00:00:00.800"),
        new("Fhir:MaxRetries", "2"),
        new("Fhir:RetryBaseDelay", "00:00:00.010"),
        new("Fhir:MaxPages", "3"),
        new("Fhir:MaxResponseBytes", "1048576"),
    ];
}

/// <summary>
/// Each fault the FHIR server can throw at the service yields cards or a 412 naming the data it could not read,
/// within the deadline, never a 500 or a hang; retries only where they can help; the token goes to the fhirServer only
/// and never into a log.
/// </summary>
public sealed class FhirFaultTests : IClassFixture<FaultHost>
{
    private const string Fixture = "requests/order-select-zoloft-text-low-iron.json";
    private const string Service = "rls-iron-order-select";
    private const string PatientId = "rls-lowiron-f29";
    private const string IronLabsCode = "2276-4";  // only in the ironLabs query (required)
    private const string HemoglobinCode = "718-7"; // only in the crpAndHemoglobin query (optional)
    private static readonly string[] ExpectedTopics = ["iron-therapy", "ssri-caution"];

    private readonly FaultHost _host;

    public FhirFaultTests(FaultHost host)
    {
        _host = host;
        host.Reset();
    }

    private Task<HookAnswer> PostAsync() => _host.PostAsync(Service, FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));

    private int Count(string resourceType) => _host.Fhir.Requests.Count(r => r.ResourceType == resourceType);

    [Fact]
    public async Task Latency_WithinDeadline_Cards()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { Delay = TimeSpan.FromMilliseconds(150) });

        var answer = await PostAsync();

        AssertCards(answer);
    }

    [Fact]
    public async Task Latency_BeyondDeadline_RequiredKey_412TimeoutWithinDeadline()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { QueryContains = IronLabsCode, Delay = TimeSpan.FromSeconds(30) });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "ironLabs", "timeout");
    }

    [Fact]
    public async Task Latency_BeyondDeadline_OptionalKey_CardsSayWhatIsMissing()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { QueryContains = HemoglobinCode, Delay = TimeSpan.FromSeconds(30) });

        var answer = await PostAsync();

        AssertCards(answer);
        Assert.Contains("Not available from the EHR: CRP and hemoglobin results", answer.Body);
    }

    [Theory]
    [InlineData(FhirFaultKind.TooManyRequests)]
    [InlineData(FhirFaultKind.ServiceUnavailable)]
    [InlineData(FhirFaultKind.BadGateway)]
    [InlineData(FhirFaultKind.ConnectionReset)]
    public async Task TransientFault_Once_RetriedThenCards(FhirFaultKind kind)
    {
        _host.Fhir.Inject(new FhirFault(kind) { ResourceType = "Patient", Times = 1, RetryAfterSeconds = 0 });

        var answer = await PostAsync();

        AssertCards(answer);
        Assert.Equal(2, Count("Patient"));
    }

    [Theory]
    [InlineData(FhirFaultKind.ServiceUnavailable, "transient")]
    [InlineData(FhirFaultKind.BadGateway, "transient")]
    [InlineData(FhirFaultKind.ConnectionReset, "transient")]
    [InlineData(FhirFaultKind.TooManyRequests, "throttled")]
    public async Task TransientFault_Always_412AfterMaxRetries(FhirFaultKind kind, string code)
    {
        _host.Fhir.Inject(new FhirFault(kind) { ResourceType = "Condition", RetryAfterSeconds = 0 });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "conditions", code);
        Assert.Equal(3, Count("Condition")); // 1 + Fhir:MaxRetries
    }

    [Fact]
    public async Task RetryAfterLongerThanTheEhrWaits_NotRetried_412()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.TooManyRequests) { ResourceType = "Condition", RetryAfterSeconds = 120 });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "conditions", "throttled");
        Assert.Equal(1, Count("Condition"));
    }

    [Theory]
    [InlineData(FhirFaultKind.ServerError, "transient")]
    [InlineData(FhirFaultKind.Unauthorized, "login")]
    [InlineData(FhirFaultKind.Forbidden, "forbidden")]
    [InlineData(FhirFaultKind.TruncatedJson, "processing")]
    [InlineData(FhirFaultKind.MalformedJson, "processing")]
    [InlineData(FhirFaultKind.HtmlErrorPage, "processing")]
    public async Task PermanentFault_RequiredKey_412NotRetried(FhirFaultKind kind, string code)
    {
        _host.Fhir.Inject(new FhirFault(kind) { ResourceType = "MedicationStatement", QueryContains = "status=active" });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "medicationStatements", code);
        Assert.Equal(1, _host.Fhir.Requests.Count(r => r.ResourceType == "MedicationStatement" && r.Query.Contains("status=active", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task UnauthorizedEverywhere_412NamesEveryRequiredKey()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Unauthorized));

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "patient", "login");
        var keys = answer.Json["issue"]!.AsArray().Select(i => i!["expression"]![0]!.GetValue<string>()).Order();
        Assert.Equal(["prefetch.conditions", "prefetch.ironLabs", "prefetch.medicationRequests", "prefetch.medicationStatements", "prefetch.patient"], keys);
        Assert.Equal(11, _host.Fhir.Requests.Count);
    }

    [Fact]
    public async Task Forbidden_OptionalKey_CardsSayWhatIsMissing()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Forbidden) { QueryContains = HemoglobinCode });

        var answer = await PostAsync();

        AssertCards(answer);
        Assert.Contains("Not available from the EHR: CRP and hemoglobin results", answer.Body);
    }

    [Fact]
    public async Task HtmlErrorPageWith502_RetriedThen412()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.HtmlErrorPage) { ResourceType = "Condition", Status = 502 });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "conditions", "transient");
        Assert.Equal(3, Count("Condition"));
    }

    [Fact]
    public async Task RedirectToAnotherHost_NotFollowed_412()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Redirect) { ResourceType = "Patient", Target = _host.Elsewhere.BaseUrl });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "patient", "security");
        Assert.Empty(_host.Elsewhere.Requests);
        Assert.Equal(1, Count("Patient"));
    }

    [Fact]
    public async Task HugeBundle_OverSizeLimit_RequiredKey_412TooCostly()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.HugeBundle) { QueryContains = IronLabsCode });

        var answer = await PostAsync();

        AssertPreconditionFailed(answer, "ironLabs", "too-costly");
    }

    [Fact]
    public async Task HugeBundle_UnderSizeLimit_OptionalKey_Cards()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.HugeBundle) { QueryContains = HemoglobinCode, Entries = 2_000 });

        var answer = await PostAsync();

        AssertCards(answer);
    }

    [Fact]
    public async Task EndlessPaging_StopsAtMaxPages_CardSaysTheIronResultsAreIncomplete()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.EndlessPaging) { QueryContains = IronLabsCode });

        var answer = await PostAsync();

        AssertCards(answer, incomplete: true);
        Assert.Equal(3, _host.Fhir.Requests.Count(r => Uri.UnescapeDataString(r.Query).Contains(IronLabsCode, StringComparison.Ordinal)));
        Assert.Contains("Ferritin and iron results: only part was returned (the search has more than 3 pages (Fhir:MaxPages))", answer.Body);
    }

    [Fact]
    public async Task NextLinkToItself_ReadOnce_Cards()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.NextLinkToItself) { ResourceType = "Condition" });

        var answer = await PostAsync();

        AssertCards(answer);
        Assert.Equal(1, Count("Condition"));
    }

    [Fact]
    public async Task NextLinkOffServer_NotFollowed_TokenStaysHome()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.NextLinkOffServer) { ResourceType = "Condition", Target = _host.Elsewhere.BaseUrl });

        var answer = await PostAsync();

        AssertCards(answer, incomplete: true);
        Assert.Empty(_host.Elsewhere.Requests);
        Assert.Contains("The problem list and diagnoses: only part was returned (a next-page link points off the FHIR server and was not followed)", answer.Body);
        // Overload or pregnancy could be on the page not read: no iron order is suggested.
        Assert.Contains("iron indicated; no order suggested", answer.Body);
    }

    [Fact]
    public async Task EveryFault_TokenSentOnlyToFhirServer()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Patient", Times = 1, RetryAfterSeconds = 0 });
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.NextLinkOffServer) { ResourceType = "Condition", Target = _host.Elsewhere.BaseUrl });

        var answer = await PostAsync();

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.All(_host.Fhir.Requests, r => Assert.Equal("Bearer " + FhirFallbackHost.AccessToken, r.Authorization));
        Assert.Empty(_host.Elsewhere.Requests);
        AssertNothingSensitiveLogged();
    }

    private void AssertCards(HookAnswer answer, bool incomplete = false)
    {
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(incomplete ? ["data-incomplete", .. ExpectedTopics] : ExpectedTopics, CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body)));
        AssertWithinDeadline(answer);
        AssertNothingSensitiveLogged();
    }

    private void AssertPreconditionFailed(HookAnswer answer, string key, string code)
    {
        Assert.True(answer.Status == HttpStatusCode.PreconditionFailed, answer.ToString());
        var issues = answer.Json["issue"]!.AsArray().Select(i => i!.AsObject()).ToList();
        var issue = Assert.Single(issues, i => i["expression"]![0]!.GetValue<string>() == "prefetch." + key);
        Assert.Equal(code, issue["code"]!.GetValue<string>());
        Assert.Equal("OperationOutcome", answer.Json["resourceType"]!.GetValue<string>());
        AssertWithinDeadline(answer);
        AssertNothingSensitiveLogged();
    }

    // The faults hold the server for 30 s: an answer at the deadline plus a margin shows the deadline ended the wait. The
    // margin is 2 s because a loaded 2-core machine has taken 3.1-3.2 s for a 2 s deadline (the HTTP round trip, the
    // rules and the test client are timed too).
    private static void AssertWithinDeadline(HookAnswer answer) =>
        Assert.True(answer.Elapsed < FaultHost.Deadline + TimeSpan.FromSeconds(2), $"answered after {answer.Elapsed.TotalMilliseconds:0} ms");

    private void AssertNothingSensitiveLogged()
    {
        var logs = _host.Logs.All;
        Assert.DoesNotContain(FhirFallbackHost.AccessToken, logs);
        Assert.DoesNotContain(PatientId, logs);
        Assert.DoesNotContain("Bearer", logs);
    }
}
