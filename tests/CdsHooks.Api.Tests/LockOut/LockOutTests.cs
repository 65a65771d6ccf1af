using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.LockOut;
using CdsHooks.Api.Security;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Api.Tests.Security;
using CdsHooks.Api.Tests.Storage;
using CdsHooks.Protocol;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.LockOut;

/// <summary>
/// SQLite host for the lock-out tests: the card log waits up to 1 s before writing, so a test can post its override
/// before the card's log row exists (the order a fast clinician and a lingering writer produce).
/// </summary>
public sealed class LockOutHost : CdsServiceHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings => [new("Analytics:CardLogLingerMilliseconds", "1000")];
}

/// <summary>The same on a fresh database of the real test PostgreSQL (CDS_TEST_POSTGRES).</summary>
public sealed class PostgresLockOutHost : PostgresHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings => [.. base.Settings, new("Analytics:CardLogLingerMilliseconds", "1000")];
}

/// <summary>What the lock-out must do on either store. Each scenario uses its own patient id, so scenarios sharing a host never meet.</summary>
internal static class LockOutScenarios
{
    /// <summary>
    /// An overridden reminder stays away for its lock-out (30 days by default) and comes back after it; the caution on
    /// the draft order in the same answers is shown every time; each hold-back is counted in the analytics.
    /// </summary>
    public static async Task OverriddenReminder_StaysAwayForItsLockOutAndComesBackAfterIt(CdsServiceHost host)
    {
        var patient = NewPatient();
        host.Clock.Set(FixedTimeProvider.FixtureDate);
        try
        {
            var request = HookCalls.Request(patientId: patient, encounterId: "visit-1");
            var first = await HookCalls.CallAsync(host.Client, request);
            var therapy = first.Single(c => Kind(c) == "iron-therapy");
            await HookCalls.PostFeedbackAsync(host.Client, FeedbackTests.Body(FeedbackTests.Overridden(therapy.Uuid!, "iron-addressed", "2026-11-21T12:01:00Z")));
            // The override is stored before the card's log row: the lock-out joins them when it reads, whatever the order.
            Assert.Empty(await host.CardLogRowsAsync(request["hookInstance"]!.GetValue<string>()));
            await FlushAsync(host);

            host.Clock.Advance(TimeSpan.FromDays(1));
            Assert.Equal(["ssri-caution"], Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-2"))));
            host.Clock.Advance(TimeSpan.FromDays(28));
            Assert.Equal(["ssri-caution"], Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-3"))));
            // Another patient of the same EHR is not affected.
            Assert.Contains("iron-therapy", Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: NewPatient(), encounterId: "visit-3"))));

            host.Clock.Set(FixedTimeProvider.FixtureDate + TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1));
            Assert.Equal(["iron-therapy", "ssri-caution"], Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-4"))).Order());

            await FlushAsync(host);
            var therapyStats = await AnalyticsAsync(host, "iron-therapy");
            Assert.Equal(2, therapyStats.GetProperty("lockOuts").GetInt64());
            Assert.Equal(0, (await AnalyticsAsync(host, "ssri-caution")).GetProperty("lockOuts").GetInt64());
        }
        finally
        {
            host.Clock.Set(FixedTimeProvider.FixtureDate);
        }
    }

    public static string NewPatient() => "lockout-" + Guid.NewGuid().ToString("N")[..12];

    public static string Kind(Card card) => card.Source.Topic!.Code!;

    public static string[] Kinds(IEnumerable<Card> cards) => [.. cards.Select(Kind)];

    public static Task FlushAsync(CdsServiceHost host) => host.Services.GetRequiredService<CardLogWriter>().FlushAsync(CancellationToken.None);

    /// <summary>The order-select statistics of <paramref name="kind"/> from November 2026 to January 2027.</summary>
    public static async Task<JsonElement> AnalyticsAsync(CdsServiceHost host, string kind, string serviceId = "rls-iron-order-select")
    {
        using var response = await host.Client.GetAsync("/analytics/cards?from=2026-11-01&to=2027-01-31");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var report = JsonDocument.Parse(body);
        return report.RootElement.GetProperty("cards").EnumerateArray()
            .Single(c => c.GetProperty("cardKind").GetString() == kind && c.GetProperty("serviceId").GetString() == serviceId).Clone();
    }
}

public sealed class LockOutTests(LockOutHost host) : IClassFixture<LockOutHost>
{
    [Fact]
    public Task OverriddenReminder_StaysAwayForItsLockOutAndComesBackAfterIt() =>
        LockOutScenarios.OverriddenReminder_StaysAwayForItsLockOutAndComesBackAfterIt(host);

    [Fact]
    public async Task DraftOrderCaution_Overridden_IsShownAgainEveryTime()
    {
        var patient = LockOutScenarios.NewPatient();
        var first = await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-1"));
        var caution = first.Single(c => LockOutScenarios.Kind(c) == "ssri-caution");
        await HookCalls.PostFeedbackAsync(host.Client, FeedbackTests.Body(FeedbackTests.Overridden(caution.Uuid!, "benefit-outweighs-risk")));
        await LockOutScenarios.FlushAsync(host);

        // The Zoloft draft is selected again, in this encounter and the next: its caution is shown each time.
        Assert.Contains("ssri-caution", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-1"))));
        Assert.Contains("ssri-caution", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "visit-2"))));
    }

    [Fact]
    public async Task RoundOfOrderSelectsInOneEncounter_NoReminderKindIsIssuedTwice()
    {
        var patient = LockOutScenarios.NewPatient();
        // The clinician selects the Zoloft draft, then unrelated orders, then Zoloft again, all in one encounter.
        var zoloft = HookCalls.Request(patientId: patient, encounterId: "round-1");
        JsonObject[] round =
        [
            zoloft,
            WithDraftsOf(zoloft, "requests/order-select-no-iron-labs-acetaminophen.json"),
            WithDraftsOf(zoloft, "requests/order-select-nutrition-order-and-amoxicillin.json"),
            HookCalls.Request(patientId: patient, encounterId: "round-1"),
            WithDraftsOf(zoloft, "requests/order-select-no-iron-labs-acetaminophen.json"),
        ];
        var issued = new List<string>();
        foreach (var request in round) issued.AddRange(LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, request)));

        Assert.Equal(1, issued.Count(k => k == "iron-therapy"));
        Assert.All(issued.Where(k => k != "ssri-caution").GroupBy(k => k), g => Assert.Single(g));
        // The caution about the Zoloft draft is not a reminder: it comes with each selection of the draft.
        Assert.Equal(2, issued.Count(k => k == "ssri-caution"));
        // The same round in a new encounter shows the reminder once more.
        Assert.Contains("iron-therapy", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient, encounterId: "round-2"))));
        await LockOutScenarios.FlushAsync(host);
        Assert.True((await LockOutScenarios.AnalyticsAsync(host, "iron-therapy")).GetProperty("repeatsWithheld").GetInt64() >= 1);
    }

    [Fact]
    public async Task RetriedHookCall_SameHookInstance_AnswersTheSameCards()
    {
        var request = HookCalls.Request(patientId: LockOutScenarios.NewPatient(), encounterId: "visit-1");
        var first = await HookCalls.CallAsync(host.Client, request);
        await LockOutScenarios.FlushAsync(host);

        var retried = await HookCalls.CallAsync(host.Client, request);

        Assert.Equal(first.Select(c => c.Uuid), retried.Select(c => c.Uuid));
    }

    /// <summary>
    /// A card saying what the call's data could not tell is never held back as a repeat: the second call of the encounter
    /// would otherwise answer a bare <c>{"cards": []}</c> for a patient whose only RLS-aggravating drug cannot be read.
    /// </summary>
    [Fact]
    public async Task DataIncomplete_IsShownOnEveryCallOfTheEncounter()
    {
        var patient = LockOutScenarios.NewPatient();
        JsonObject Request()
        {
            var request = HookCalls.Request("requests/patient-view-active-paroxetine.json", patientId: patient, encounterId: "visit-9");
            request.Remove("fhirServer");
            request.Remove("fhirAuthorization");
            var statement = request["prefetch"]!["medicationStatements"]!["entry"]![0]!["resource"]!.AsObject();
            statement.Remove("medicationCodeableConcept");
            statement["medicationReference"] = new JsonObject { ["reference"] = "Medication/med-paroxetine-20" };
            return request;
        }

        var first = await HookCalls.CallAsync(host.Client, Request(), "rls-iron-patient-view");
        var second = await HookCalls.CallAsync(host.Client, Request(), "rls-iron-patient-view");

        Assert.Equal(["data-incomplete"], LockOutScenarios.Kinds(first));
        Assert.Equal(["data-incomplete"], LockOutScenarios.Kinds(second));
    }

    [Fact]
    public async Task NoEncounter_ReminderNotRepeatedWithinTheWindow_ShownAgainAfterIt()
    {
        var patient = LockOutScenarios.NewPatient();
        host.Clock.Set(FixedTimeProvider.FixtureDate);
        try
        {
            Assert.Contains("iron-therapy", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient))));
            host.Clock.Advance(TimeSpan.FromMinutes(59));
            Assert.DoesNotContain("iron-therapy", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient))));
            // 60 minutes (Analytics:LockOut:NoEncounterMinutes) after it was last shown.
            host.Clock.Advance(TimeSpan.FromMinutes(2));
            Assert.Contains("iron-therapy", LockOutScenarios.Kinds(await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: patient))));
        }
        finally
        {
            host.Clock.Set(FixedTimeProvider.FixtureDate);
        }
    }

    [Fact]
    public async Task CardLog_KeepsAKeyedHashOfThePatientAndEncounter_NeverTheIds()
    {
        var patient = LockOutScenarios.NewPatient();
        var request = HookCalls.Request(patientId: patient, encounterId: "visit-7");
        await HookCalls.CallAsync(host.Client, request);
        await LockOutScenarios.FlushAsync(host);

        var row = (await host.CardLogRowsAsync(request["hookInstance"]!.GetValue<string>()))[0];
        var stored = new SubjectKeys((string?)row["patient_key"], (string?)row["encounter_key"]);

        Assert.Matches("^[0-9a-f]{32}$", stored.Patient!);
        Assert.DoesNotContain(patient, stored.Patient!);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(patient)))[..32], stored.Patient);
        // It is the HMAC under the configured key in the open scope; another key gives another hash.
        var keyring = new PatientKeyring(Convert.FromBase64String(CdsServiceHost.TestPatientKey));
        Assert.Equal(keyring.For(PatientKeyring.OpenScope, patient, "visit-7"), stored);
        Assert.NotEqual(stored.Patient, new PatientKeyring(RandomNumberGenerator.GetBytes(32)).For(PatientKeyring.OpenScope, patient, "visit-7").Patient);
    }

    /// <summary>A copy of <paramref name="request"/> (same patient and prefetch, fresh hookInstance) whose draft orders and selections are another fixture's.</summary>
    private static JsonObject WithDraftsOf(JsonObject request, string fixture)
    {
        var other = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!["context"]!;
        var copy = request.DeepClone().AsObject();
        copy["hookInstance"] = Guid.NewGuid().ToString();
        copy["context"]!["draftOrders"] = other["draftOrders"]!.DeepClone();
        copy["context"]!["selections"] = other["selections"]!.DeepClone();
        return copy;
    }
}

public sealed class PostgresLockOutTests(PostgresLockOutHost host) : IClassFixture<PostgresLockOutHost>
{
    [RequiresPostgresFact]
    public Task OverriddenReminder_StaysAwayForItsLockOutAndComesBackAfterIt() =>
        LockOutScenarios.OverriddenReminder_StaysAwayForItsLockOutAndComesBackAfterIt(host);
}

/// <summary>Two EHRs (issuers, one with a tenant) calling about the same patient id never share a lock-out.</summary>
public sealed class LockOutScopeTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    private const string Select = "/cds-services/rls-iron-order-select";

    [Fact]
    public async Task OverrideByOneIssuer_DoesNotLockOutTheSamePatientIdOfAnother()
    {
        var patient = LockOutScenarios.NewPatient();
        var sandboxCards = await CallAsync(SandboxToken(Select), patient, "visit-1");
        var therapy = sandboxCards.Single(c => LockOutScenarios.Kind(c) == "iron-therapy");
        using (var feedback = await host.PostAsync(Select + "/feedback", SandboxToken(Select + "/feedback"),
                   FeedbackTests.Body(FeedbackTests.Overridden(therapy.Uuid!, "iron-addressed"))))
        {
            Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        }
        await LockOutScenarios.FlushAsync(host);

        Assert.DoesNotContain("iron-therapy", LockOutScenarios.Kinds(await CallAsync(SandboxToken(Select), patient, "visit-2")));
        Assert.Contains("iron-therapy", LockOutScenarios.Kinds(await CallAsync(EpicToken(Select), patient, "visit-2")));
    }

    [Fact]
    public void Keyring_SamePatientInAnotherIssuerOrTenant_GetsAnotherHash()
    {
        var keyring = new PatientKeyring(Convert.FromBase64String(CdsServiceHost.TestPatientKey));
        string[] scopes =
        [
            PatientKeyring.OpenScope,
            PatientKeyring.ScopeOf(new CdsClient(SecuredCdsServiceHost.SandboxIssuer, null, null)),
            PatientKeyring.ScopeOf(new CdsClient(SecuredCdsServiceHost.EpicIssuer, null, null)),
            PatientKeyring.ScopeOf(new CdsClient(SecuredCdsServiceHost.EpicIssuer, SecuredCdsServiceHost.EpicTenant, null)),
            PatientKeyring.ScopeOf(new CdsClient(SecuredCdsServiceHost.EpicIssuer, "another-tenant", null)),
        ];

        var hashes = scopes.Select(s => keyring.For(s, "patient-1", "encounter-1")).ToList();

        Assert.Equal(scopes.Length, hashes.Select(h => h.Patient).Distinct().Count());
        Assert.Equal(scopes.Length, hashes.Select(h => h.Encounter).Distinct().Count());
        // Stable: the same input gives the same hash (what makes "same patient" recognisable).
        Assert.Equal(hashes[1], keyring.For(scopes[1], "patient-1", "encounter-1"));
        // The encounter hash belongs to its patient: one encounter id of two patients gives two hashes.
        Assert.NotEqual(hashes[0].Encounter, keyring.For(scopes[0], "patient-2", "encounter-1").Encounter);
    }

    private string SandboxToken(string path) => host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, path).Sign();

    private string EpicToken(string path) =>
        host.Token(host.EpicKey, SecuredCdsServiceHost.EpicIssuer, path).With("tenant", SecuredCdsServiceHost.EpicTenant).Sign();

    private async Task<List<Card>> CallAsync(string token, string patient, string encounter)
    {
        using var response = await host.PostAsync(Select, token, HookCalls.Request(patientId: patient, encounterId: encounter).ToJsonString());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonSerializer.Deserialize(body, CdsJson.ResponseInfo)!.Cards;
    }
}
