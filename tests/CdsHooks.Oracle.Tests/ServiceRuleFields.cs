using CdsHooks.Fhir;

namespace CdsHooks.Oracle.Tests;

/// <summary><see cref="RuleFields"/> from the service's own FHIR model, as its reader filled it.</summary>
public static class ServiceRuleFields
{
    public static IEnumerable<RuleFields> Of(Resource resource, string path, string? fullUrl = null)
    {
        var fields = new RuleFields(path, resource.ResourceType, resource.Id) { FullUrl = fullUrl };
        if (!RuleText.RuleResourceTypes.Contains(resource.ResourceType))
        {
            yield return fields;
            yield break;
        }
        yield return resource switch
        {
            Bundle b => fields with
            {
                Links = RuleText.Join((b.Link ?? []).Select(l => $"{l.Relation} {l.Url}")),
                Next = b.NextLink(),
                Entries = b.Entry is { Count: > 0 } entries ? entries.Count : null, // absent and [] alike
            },
            Patient p => fields with { BirthDate = p.BirthDate, Gender = p.Gender },
            Observation o => fields with
            {
                Status = o.Status,
                Code = Concept(o.Code),
                Effective = RuleText.Join(Effective(o)),
                Issued = o.Issued,
                ValueQuantity = o.ValueQuantity is { } q ? RuleText.Quantity(q.Value, q.Comparator, q.Unit, q.System, q.Code) : null,
                ValueString = o.ValueString,
            },
            Condition c => fields with
            {
                Code = Concept(c.Code),
                ClinicalStatus = Concept(c.ClinicalStatus),
                VerificationStatus = Concept(c.VerificationStatus),
                Abatement = RuleText.Join(Abatement(c)),
            },
            MedicationUse m => fields with { Status = m.Status, Medication = RuleText.Join(Medication(m)) },
            Medication m => fields with
            {
                Code = Concept(m.Code),
                Ingredients = RuleText.Join((m.Ingredient ?? []).SelectMany(Ingredient)),
            },
            _ => fields,
        };

        if (resource is Bundle bundle)
        {
            var entries = bundle.Entry ?? [];
            for (int i = 0; i < entries.Count; i++)
            {
                var entryPath = $"{path}.entry[{i}]";
                if (entries[i].Resource is { } entryResource)
                {
                    foreach (var nested in Of(entryResource, entryPath, entries[i].FullUrl)) yield return nested;
                }
                else
                {
                    yield return new RuleFields(entryPath, "(no resource)", null) { FullUrl = entries[i].FullUrl };
                }
            }
        }
        if (resource is DomainResource { Contained: { } contained })
        {
            for (int i = 0; i < contained.Count; i++)
            {
                foreach (var nested in Of(contained[i], $"{path}.contained[{i}]")) yield return nested;
            }
        }
    }

    private static string? Concept(CodeableConcept? concept) =>
        RuleText.Concept(concept?.Coding?.Select(c => (c.System, c.Code, c.Display)), concept?.Text, concept is not null);

    private static IEnumerable<string> Effective(Observation o)
    {
        if (o.EffectiveDateTime is not null) yield return "dateTime " + o.EffectiveDateTime;
        if (o.EffectivePeriod is { } p) yield return $"period {p.Start}..{p.End}";
        if (o.EffectiveInstant is not null) yield return "instant " + o.EffectiveInstant;
    }

    private static IEnumerable<string> Abatement(Condition c)
    {
        if (c.AbatementDateTime is not null) yield return "dateTime " + c.AbatementDateTime;
        if (c.AbatementString is not null) yield return "string " + c.AbatementString;
    }

    private static IEnumerable<string> Medication(MedicationUse m)
    {
        if (m.MedicationCodeableConcept is { } concept) yield return "concept " + Concept(concept);
        if (m.MedicationReference is { } reference) yield return RuleText.Reference(reference.ReferenceValue, reference.Display);
    }

    private static IEnumerable<string> Ingredient(MedicationIngredient i)
    {
        if (i.ItemCodeableConcept is { } concept) yield return "concept " + Concept(concept);
        if (i.ItemReference is { } reference) yield return RuleText.Reference(reference.ReferenceValue, reference.Display);
    }
}
