using System.Text.Json.Nodes;
using CdsHooks.Testing;
using static CdsHooks.Api.Tests.Fhir.AnswerReading;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>How a guard key arrives: the five prefetch states (CDS Hooks 2.0 §Prefetch), then the FHIR fallback failing.</summary>
public enum GuardKeyState
{
    /// <summary>Left out of prefetch, and no fhirServer to read it from.</summary>
    AbsentNoFhirServer,
    /// <summary>Sent as null: the EHR has no data to give.</summary>
    Null,
    /// <summary>An empty searchset Bundle: read, nothing recorded.</summary>
    EmptyBundle,
    /// <summary>An OperationOutcome (the EHR's own fetch failed), and no fhirServer to read it from.</summary>
    OperationOutcomeNoFhirServer,
    /// <summary>An empty first page with a next link, and no fhirServer to follow it.</summary>
    PagedNoFhirServer,
    /// <summary>Left out of prefetch; the allowlisted fhirServer answers its query with 503 through every retry.</summary>
    ServerFails,
}

/// <summary>
/// Issue 10 item 3 (fail safe) for every key that guards an iron suggestion, in each prefetch state and over the FHIR
/// fallback: a low-iron RLS woman of 45 with a normal recent phosphate, to whom both iron orders (IV ferric
/// carboxymaltose and oral ferrous sulfate) are suggested when everything is read. When a guard key cannot be read the
/// orders it guards are not suggested, the iron card says what could not be read and why, and it is never a 412.
/// </summary>
public sealed class GuardKeyStateTests : IClassFixture<FaultHost>
{
    /// <summary>Ferritin 35 ng/mL, TSAT 14 %, phosphate 3.1 mg/dL, RLS; the allergies arrive null (set per test here).</summary>
    private const string Fixture = "requests/patient-view-allergy-list-null.json";
    private const string Service = "rls-iron-patient-view";

    private readonly FaultHost _host;

    public GuardKeyStateTests(FaultHost host)
    {
        _host = host;
        host.Reset();
    }

    public static TheoryData<string, GuardKeyState> Cases()
    {
        var cases = new TheoryData<string, GuardKeyState>();
        foreach (var key in (string[])["allergies", "ironAdministrations", "pastMedicationRequests", "pastMedicationStatements", "safetyObservations"])
        {
            foreach (var state in Enum.GetValues<GuardKeyState>()) cases.Add(key, state);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GuardKey_InEachState_OnlyTheOrdersItDoesNotGuardAreSuggested(string key, GuardKeyState state)
    {
        var answer = await _host.PostAsync(Service, Request(key, state).ToJsonString());

        // Never a 412 and never the data-incomplete card: a guard gap is told in the iron card it affects.
        var cards = Cards(answer);
        var iron = Assert.Single(cards, c => c.Key == "iron-therapy").Value;
        Assert.Equal(["iron-therapy"], cards.Keys);
        var detail = Detail(iron);
        var (suggested, notSuggested) = Expected(key, state);
        Assert.Equal(suggested, Created(iron, "MedicationRequest"));
        if (notSuggested is null) Assert.DoesNotContain("could not be read", detail);
        else Assert.Contains(notSuggested, detail);
        if (state == GuardKeyState.ServerFails)
        {
            Assert.Equal(3, _host.Fhir.Requests.Count); // the one key, 1 + Fhir:MaxRetries
            Assert.All(_host.Fhir.Requests, r => Assert.Equal("Bearer " + FhirFallbackHost.AccessToken, r.Authorization));
        }
        else
        {
            Assert.Empty(_host.Fhir.Requests);
        }
    }

    /// <summary>
    /// What the iron card suggests (RxNorm codes, sorted) and the "Not suggested" line it must carry. Allergies guard
    /// every iron order; the recent-iron keys guard IV iron (a repeat course); the safety Observations guard ferric
    /// carboxymaltose (pregnancy, for a woman of 45, and phosphate).
    /// </summary>
    private static (string[] Suggested, string? NotSuggested) Expected(string key, GuardKeyState state)
    {
        var why = state switch
        {
            GuardKeyState.Null => "the EHR sent no data for it",
            GuardKeyState.ServerFails => "the FHIR server failed (503)",
            _ => "this service has no FHIR server access to read it",
        };
        if (state == GuardKeyState.EmptyBundle)
        {
            // Nothing recorded is an answer. No phosphate at all keeps ferric carboxymaltose back for its own reason.
            return key == "safetyObservations"
                ? ([FerrousSulfate], "IV ferric carboxymaltose: no phosphate result (none in the last 90 days)")
                : ([FerricCarboxymaltose, FerrousSulfate], null);
        }
        return key switch
        {
            "allergies" => ([], $"IV ferric carboxymaltose and oral ferrous sulfate: the allergy list could not be read ({why})"),
            "safetyObservations" => ([FerrousSulfate], $"IV ferric carboxymaltose: pregnancy status and serum phosphate could not be read ({why})"),
            _ => ([FerrousSulfate], $"IV ferric carboxymaltose: recent iron infusions and orders could not be read ({why})"),
        };
    }

    /// <summary>The fixture with every guard key read (allergies an empty Bundle) except <paramref name="key"/>, in <paramref name="state"/>.</summary>
    private JsonObject Request(string key, GuardKeyState state)
    {
        var request = state == GuardKeyState.ServerFails
            ? FallbackRequests.Load(Fixture, _host.Fhir.BaseUrl, FhirFallbackHost.AccessToken)
            : PrefetchOnly(Fixture);
        var prefetch = request["prefetch"]!.AsObject();
        prefetch["allergies"] = SearchSet();
        switch (state)
        {
            case GuardKeyState.AbsentNoFhirServer:
                prefetch.Remove(key);
                break;
            case GuardKeyState.Null:
                prefetch[key] = null;
                break;
            case GuardKeyState.EmptyBundle:
                prefetch[key] = SearchSet();
                break;
            case GuardKeyState.OperationOutcomeNoFhirServer:
                prefetch[key] = JsonNode.Parse("""{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"timeout","diagnostics":"EHR prefetch timed out"}]}""");
                break;
            case GuardKeyState.PagedNoFhirServer:
                var page = SearchSet();
                page["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = "https://ehr.example.org/fhir/" + key + "?_page=2" });
                prefetch[key] = page;
                break;
            case GuardKeyState.ServerFails:
                prefetch.Remove(key);
                _host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { RetryAfterSeconds = 0 });
                break;
        }
        return request;
    }
}
