using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;
using CdsHooks.Testing;

namespace CdsHooks.Rls.Tests;

public class CardTextTests
{
    [Theory]
    // Expected values computed independently: SHA-256 of "a\nb\nc", version and variant bits set, first 16 bytes.
    [InlineData("rls-iron-order-select", "f52ac460", "ssri-caution:sertraline", "52aae83a-92d9-8bd3-905b-934b10812a98")]
    public void StableUuid_From_IsVersion8Sha256OfThePartsJoinedByNewlines(string a, string b, string c, string expected)
    {
        Assert.Equal(expected, StableUuid.From(a, b, c));
    }

    [Fact]
    public void StableUuid_From_PartsLongerThanTheStackBuffer_SameScheme()
    {
        Assert.Equal("d7d97b91-ef07-8aed-ae0a-cf7d8c072699", StableUuid.From("é", "", new string('x', 600)));
    }

    [Fact]
    public void CautionCard_MedicationNameWithMarkdown_IsEscapedInDetail()
    {
        var knowledge = RlsKnowledge.Default;
        var rls = knowledge.RlsConditionCodes[0];
        var record = new PatientRecord
        {
            PatientId = "p1",
            Conditions = [new Condition { Code = new CodeableConcept { Coding = [new Coding(rls.System!, rls.Code!)] } }],
            DraftOrders = new Bundle
            {
                Entry =
                [
                    new BundleEntry
                    {
                        Resource = new MedicationRequest
                        {
                            Id = "d1",
                            Status = "draft",
                            MedicationCodeableConcept = new CodeableConcept { Text = "sertraline *50 MG* [Zoloft]\nnew line" },
                        },
                    },
                ],
            },
            Selections = ["MedicationRequest/d1"],
        };
        var context = new CardContext("rls-iron-order-select", "h1", HookKind.OrderSelect, "p1", null, "Practitioner/1");

        var cards = new RlsAdvisor(knowledge).Advise(record, context, FixedTimeProvider.FixtureDate).Cards;

        var caution = Assert.Single(cards, c => c.Source.Topic?.Code == "ssri-caution");
        Assert.Contains(@"**sertraline \*50 MG\* \[Zoloft\] new line**", caution.Detail);
        // The card's own formatting is untouched, and a second build gives the same text (reused builder is cleared).
        Assert.Equal(caution.Detail, new RlsAdvisor(knowledge).Advise(record, context, FixedTimeProvider.FixtureDate).Cards.Single(c => c.Source.Topic?.Code == "ssri-caution").Detail);
    }
}
