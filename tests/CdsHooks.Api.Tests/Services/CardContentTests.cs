using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Services;

/// <summary>
/// What a clinician reads and what an EHR files, checked on every card of every fixture (issue 11 items 1 and 4):
/// the word budget, coded and complete draft orders, no implementation wording, and a working explanation link.
/// </summary>
public sealed partial class CardContentTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    /// <summary>The detail's first paragraph (the data and the action) a clinician reads in ten seconds.</summary>
    public const int LeadWordBudget = 80;

    /// <summary>The whole detail, "Based on" data list and caveats included.</summary>
    public const int DetailWordBudget = 200;

    private const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    private const string Loinc = "http://loinc.org";

    /// <summary>Words that describe how the service works rather than the patient.</summary>
    private static readonly string[] ImplementationWording =
    [
        "recognised", "recognized", "matched", "prefix", "regex", "knowledge file", "prefetch", "classifier",
        "null", "json", "resourceType", "parsed", "snapshot", "fhir",
    ];

    public static TheoryData<string> ScenarioNames() => [.. FixtureFiles.Scenarios().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task EveryCard_DetailWithinTheWordBudget(string name)
    {
        foreach (var card in await CardsOf(name))
        {
            var detail = card.GetProperty("detail").GetString()!;
            var lead = detail.Split("\n\n", 2)[0];
            var summary = card.GetProperty("summary").GetString()!;
            Assert.True(Words(lead) <= LeadWordBudget, $"{name} '{summary}': first paragraph has {Words(lead)} words (budget {LeadWordBudget}):\n{lead}");
            Assert.True(Words(detail) <= DetailWordBudget, $"{name} '{summary}': detail has {Words(detail)} words (budget {DetailWordBudget})");
        }
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task EverySuggestedOrder_IsCodedAndCompleteEnoughToFileAsADraft(string name)
    {
        foreach (var card in await CardsOf(name))
        {
            if (!card.TryGetProperty("suggestions", out var suggestions)) continue;
            foreach (var action in suggestions.EnumerateArray().SelectMany(s => s.GetProperty("actions").EnumerateArray()))
            {
                if (action.GetProperty("type").GetString() != "create") continue;
                var resource = action.GetProperty("resource");
                var type = resource.GetProperty("resourceType").GetString();
                var what = $"{name}: {type} in '{card.GetProperty("summary").GetString()}'";

                Assert.True(resource.GetProperty("status").GetString() == "draft", what + " is not a draft");
                Assert.True(resource.GetProperty("intent").GetString() == "order", what + " has no intent 'order'");
                Assert.Matches("^Patient/[A-Za-z0-9\\-.]+$", resource.GetProperty("subject").GetProperty("reference").GetString()!);
                Assert.True(resource.TryGetProperty("reasonCode", out _) || resource.TryGetProperty("reasonReference", out _), what + " gives no reason");

                switch (type)
                {
                    case "MedicationRequest":
                        var medication = resource.GetProperty("medicationCodeableConcept");
                        AssertCoded(medication, RxNorm, what);
                        Assert.False(string.IsNullOrWhiteSpace(medication.GetProperty("text").GetString()), what + " has no medication text");
                        Assert.False(string.IsNullOrWhiteSpace(resource.GetProperty("dosageInstruction")[0].GetProperty("text").GetString()), what + " has no dosage text");
                        break;
                    case "ServiceRequest":
                        AssertCoded(resource.GetProperty("code"), Loinc, what);
                        break;
                    default:
                        Assert.Fail(what + ": unexpected resource type");
                        break;
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task EveryCard_SpeaksOfThePatientNotOfTheSoftware(string name)
    {
        foreach (var card in await CardsOf(name))
        {
            var labels = card.TryGetProperty("suggestions", out var s) ? s.EnumerateArray().Select(x => x.GetProperty("label").GetString()) : [];
            var text = string.Join("\n", [card.GetProperty("summary").GetString(), card.GetProperty("detail").GetString(), .. labels]);
            foreach (var word in ImplementationWording)
            {
                Assert.False(Regex.IsMatch(text, $@"\b{Regex.Escape(word)}\b", RegexOptions.IgnoreCase),
                    $"{name}: '{word}' in clinician text:\n{text}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task EveryCard_LinksToItsExplanationPage_WhichIsServed(string name)
    {
        foreach (var card in await CardsOf(name))
        {
            var kind = card.GetProperty("source").GetProperty("topic").GetProperty("code").GetString()!;
            var link = card.GetProperty("links").EnumerateArray().Select(l => l.GetProperty("url").GetString()!)
                .SingleOrDefault(u => u.EndsWith("/explain/" + kind, StringComparison.Ordinal));
            Assert.True(link is not null, $"{name}: the {kind} card has no link to /explain/{kind}");

            using var response = await host.Client.GetAsync(new Uri(link).PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains("<h1>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ExplanationPage_UnknownKind_Is404ProblemNamingTheKnownKinds()
    {
        using var response = await host.Client.GetAsync("/explain/no-such-card");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("iron-therapy", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("patient-view-birth-date-9999", "9999-12-31")]
    [InlineData("patient-view-birth-date-1850", "1850-01-01")]
    public async Task ImplausibleBirthDate_AgeUnknownSaidInTheCard_AndNoOrderSuggested(string name, string birthDate)
    {
        var card = Assert.Single(await CardsOf(name));
        var detail = card.GetProperty("detail").GetString()!;

        Assert.Contains($"Age: unknown (birth date {birthDate} is not plausible)", detail, StringComparison.Ordinal);
        Assert.False(card.TryGetProperty("suggestions", out _), "no dose without a plausible age");
        Assert.Equal("info", card.GetProperty("indicator").GetString());
    }

    [Fact]
    public async Task ObservationDatedInTheFuture_IsSkippedWithACaveat_NotTakenAsTheNewest()
    {
        var card = Assert.Single(await CardsOf("patient-view-ferritin-dated-in-the-future"));
        var detail = card.GetProperty("detail").GetString()!;

        Assert.Contains("Ferritin 40 ng/mL", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Ferritin: 250", detail, StringComparison.Ordinal);
        Assert.Matches(@"[Ff]erritin \(2276-4\) dated 2026-12-01, in the future", detail);
    }

    private static void AssertCoded(JsonElement concept, string system, string what)
    {
        var codings = concept.GetProperty("coding").EnumerateArray().ToList();
        Assert.True(codings.Any(c => c.GetProperty("system").GetString() == system && !string.IsNullOrWhiteSpace(c.GetProperty("code").GetString())),
            $"{what} has no {system} coding");
    }

    private static int Words(string text) => WordPattern().Count(text);

    [GeneratedRegex(@"\S+")]
    private static partial Regex WordPattern();

    private async Task<JsonElement[]> CardsOf(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        using var response = await host.Client.PostAsync($"/cds-services/{scenario.ServiceId}",
            new StringContent(FixtureFiles.ReadFixture(scenario.Request), Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {json}");
        return CardAssertions.AssertConformantResponse(json);
    }
}
