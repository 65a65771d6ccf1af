using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Snapshot;

/// <summary>
/// Recognises drugs in real-world medication data. Records are coded at product level (RxNorm SCD/SBD,
/// brand names), in ATC, via Medication resources with ingredients, or as text only, so every signal is
/// used: ingredient and product codes, ATC codes and class prefixes, Medication.ingredient, and
/// ingredient/brand names as whole words in display and text.
/// </summary>
public sealed class MedicationClassifier(RlsKnowledge knowledge)
{
    public IReadOnlyList<DrugMatch> Classify(CodeableConcept? concept, Medication? medication)
    {
        var matches = new List<DrugMatch>(2);
        // Reused for every text of this medication, and by this thread for the next one (emptied before each use).
        var names = t_names ??= new List<(string Phrase, KnownDrug Drug)>(4);
        AddFrom(concept, matches, names);
        if (medication is not null)
        {
            AddFrom(medication.Code, matches, names);
            foreach (var ingredient in medication.Ingredient ?? [])
            {
                AddFrom(ingredient.ItemCodeableConcept, matches, names);
                if (ingredient.ItemReference?.Display is { } display) AddNames(display, matches, names);
            }
        }
        return matches;
    }

    [ThreadStatic]
    private static List<(string Phrase, KnownDrug Drug)>? t_names;

    private void AddFrom(CodeableConcept? concept, List<DrugMatch> matches, List<(string Phrase, KnownDrug Drug)> names)
    {
        if (concept is null) return;
        foreach (var coding in concept.Coding ?? [])
        {
            if (knowledge.DrugForCode(coding.System, coding.Code) is { } drug)
            {
                Add(matches, new DrugMatch(drug.Ingredient, drug.Class, $"{SystemName(coding.System)} {coding.Code}", drug));
            }
            else if (coding.System == FhirSystems.Atc && coding.Code is { } atc && knowledge.ClassForAtc(atc) is { } cls)
            {
                Add(matches, new DrugMatch(coding.Display ?? atc, cls, $"ATC {atc}"));
            }
            AddNames(coding.Display, matches, names);
        }
        AddNames(concept.Text, matches, names);
    }

    private void AddNames(string? text, List<DrugMatch> matches, List<(string Phrase, KnownDrug Drug)> found)
    {
        if (string.IsNullOrWhiteSpace(text)) return;
        found.Clear();
        knowledge.DrugNames.FindAll(text, found);
        foreach (var (phrase, drug) in found)
        {
            Add(matches, new DrugMatch(drug.Ingredient, drug.Class, $"name \"{phrase}\"", drug));
        }
    }

    private static void Add(List<DrugMatch> matches, DrugMatch match)
    {
        for (int i = 0; i < matches.Count; i++)
        {
            var m = matches[i];
            // An ATC class hit whose name then resolves to a known ingredient of the same class is the same drug:
            // the named one is kept, since it knows the ingredient (and whether it is evidence of RLS).
            if (m.Class == match.Class && m.Drug is null && match.Drug is not null && m.Evidence.StartsWith("ATC ", StringComparison.Ordinal))
            {
                matches[i] = match with { Evidence = $"{m.Evidence} and {match.Evidence}" };
                return;
            }
            if (string.Equals(m.Ingredient, match.Ingredient, StringComparison.OrdinalIgnoreCase)) return;
        }
        matches.Add(match);
    }

    private static string SystemName(string? system) => system switch
    {
        FhirSystems.RxNorm => "RxNorm",
        FhirSystems.Atc => "ATC",
        FhirSystems.Snomed => "SNOMED CT",
        _ => system ?? "code",
    };
}
