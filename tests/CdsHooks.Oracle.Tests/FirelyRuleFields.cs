using System.Globalization;
using Hl7.Fhir.Model;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// <see cref="RuleFields"/> from Firely's POCOs. Primitives are read through <see cref="PrimitiveType.JsonValue"/>,
/// the value as it stood in the JSON, so a code Firely has no enum member for (read leniently) still shows.
/// </summary>
public static class FirelyRuleFields
{
    public static IEnumerable<RuleFields> Of(Resource resource, string path, string? fullUrl = null)
    {
        var fields = new RuleFields(path, resource.TypeName, resource.Id) { FullUrl = fullUrl };
        if (!RuleText.RuleResourceTypes.Contains(resource.TypeName))
        {
            yield return fields;
            yield break;
        }
        yield return resource switch
        {
            Bundle b => fields with
            {
                Links = RuleText.Join(b.Link.Select(l => $"{l.Relation} {l.Url}")),
                Next = b.Link.FirstOrDefault(l => l.Relation == "next" && !string.IsNullOrEmpty(l.Url))?.Url,
                Entries = b.Entry.Count > 0 ? b.Entry.Count : null,
            },
            Patient p => fields with { BirthDate = Raw(p.BirthDateElement), Gender = Raw(p.GenderElement) },
            Observation o => fields with
            {
                Status = Raw(o.StatusElement),
                Code = Concept(o.Code),
                Effective = o.Effective switch
                {
                    null => null,
                    FhirDateTime d => "dateTime " + Raw(d),
                    Period p => $"period {Raw(p.StartElement)}..{Raw(p.EndElement)}",
                    Instant i => "instant " + Raw(i),
                    var other => other.TypeName,
                },
                Issued = Raw(o.IssuedElement),
                ValueQuantity = o.Value is Quantity q ? RuleText.Quantity(q.Value, Raw(q.ComparatorElement), q.Unit, q.System, q.Code) : null,
                ValueString = (o.Value as FhirString)?.Value,
            },
            Condition c => fields with
            {
                Code = Concept(c.Code),
                ClinicalStatus = Concept(c.ClinicalStatus),
                VerificationStatus = Concept(c.VerificationStatus),
                Abatement = c.Abatement switch
                {
                    null => null,
                    FhirDateTime d => "dateTime " + Raw(d),
                    FhirString s => "string " + s.Value,
                    var other => other.TypeName,
                },
            },
            MedicationRequest m => fields with { Status = Raw(m.StatusElement), Medication = Choice(m.Medication) },
            MedicationStatement m => fields with { Status = Raw(m.StatusElement), Medication = Choice(m.Medication) },
            Medication m => fields with
            {
                Code = Concept(m.Code),
                Ingredients = RuleText.Join(m.Ingredient.Select(i => Choice(i.Item)).OfType<string>()),
            },
            _ => fields,
        };

        if (resource is Bundle bundle)
        {
            for (int i = 0; i < bundle.Entry.Count; i++)
            {
                var entry = bundle.Entry[i];
                var entryPath = $"{path}.entry[{i}]";
                if (entry.Resource is { } entryResource)
                {
                    foreach (var nested in Of(entryResource, entryPath, entry.FullUrl)) yield return nested;
                }
                else
                {
                    yield return new RuleFields(entryPath, "(no resource)", null) { FullUrl = entry.FullUrl };
                }
            }
        }
        if (resource is DomainResource domain)
        {
            for (int i = 0; i < domain.Contained.Count; i++)
            {
                foreach (var nested in Of(domain.Contained[i], $"{path}.contained[{i}]")) yield return nested;
            }
        }
    }

    private static string? Raw(PrimitiveType? primitive) => primitive?.JsonValue switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };

    private static string? Concept(CodeableConcept? concept) =>
        RuleText.Concept(concept?.Coding.Select(c => (c.System, c.Code, c.Display)), concept?.Text, concept is not null);

    private static string? Choice(DataType? value) => value switch
    {
        null => null,
        CodeableConcept concept => "concept " + Concept(concept),
        ResourceReference reference => RuleText.Reference(reference.Reference, reference.Display),
        var other => other.TypeName,
    };
}
