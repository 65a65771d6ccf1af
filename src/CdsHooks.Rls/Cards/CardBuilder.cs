using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>Turns findings into CDS Hooks cards, each by the builder of its kind; most urgent first.</summary>
public sealed class CardBuilder
{
    public const int MaxSummaryLength = CardWriter.MaxSummaryLength;

    private readonly IronStudiesCard _ironStudies;
    private readonly IronTherapyCard _ironTherapy;
    private readonly IvIronCard _ivIron;
    private readonly IvIronCautionCard _ivIronCaution;
    private readonly IronContraindicatedCard _ironContraindicated;
    private readonly DrugCautionCard _ssriCaution;
    private readonly DrugCautionCard _drugCaution;
    private readonly DataIncompleteCard _dataIncomplete;
    private readonly AugmentationCard _augmentation;
    private readonly IronFollowUpCard _followUp;
    private readonly IronOverloadWorkupCard _overloadWorkup;

    public CardBuilder(RlsKnowledge knowledge)
    {
        _ironStudies = new(knowledge);
        _ironTherapy = new(knowledge);
        _ivIron = new(knowledge);
        _ivIronCaution = new(knowledge);
        _ironContraindicated = new(knowledge);
        _ssriCaution = new(knowledge, CardKind.SsriCaution, _ironStudies);
        _drugCaution = new(knowledge, CardKind.AggravatingDrugCaution, _ironStudies);
        _dataIncomplete = new(knowledge);
        _augmentation = new(knowledge, _ironStudies);
        _followUp = new(knowledge);
        _overloadWorkup = new(knowledge);
    }

    public List<Card> Build(IReadOnlyList<Finding> findings, PatientSnapshot s, CardContext ctx)
    {
        var cards = new List<Card>(findings.Count);
        foreach (var f in findings)
        {
            cards.Add(f switch
            {
                IronStudiesDue d => _ironStudies.Build(d, s, ctx),
                IronTherapyIndicated d => _ironTherapy.Build(d, s, ctx),
                IvIronSuggested d => _ivIron.Build(d, s, ctx),
                IvIronNotIndicated d => _ivIronCaution.Build(d, s, ctx),
                IronOrderContraindicated d => _ironContraindicated.Build(d, s, ctx),
                AggravatingDrug { Kind: CardKind.SsriCaution } d => _ssriCaution.Build(d, s, ctx),
                AggravatingDrug d => _drugCaution.Build(d, s, ctx),
                DataIncomplete d => _dataIncomplete.Build(d, s, ctx),
                AugmentationRisk d => _augmentation.Build(d, s, ctx),
                IronFollowUp d => _followUp.Build(d, s, ctx),
                IronOverloadWorkup d => _overloadWorkup.Build(d, s, ctx),
                _ => throw new InvalidOperationException($"No card for finding {f.GetType().Name}."),
            });
        }
        // Most urgent first: critical, warning, info.
        cards.Sort((a, b) => b.Indicator.CompareTo(a.Indicator));
        return cards;
    }
}
