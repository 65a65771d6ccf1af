using System.Globalization;
using System.Text;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// The elements of one resource that the RLS rules read, as text, so the service's reader and Firely can each build
/// one and a difference prints as the field that differs. <see cref="Path"/> says where the resource sat in the
/// request (<c>prefetch.ironLabs.entry[3]</c>, <c>…contained[0]</c>); nested resources get their own record.
/// Only set fields are printed.
/// </summary>
public sealed record RuleFields(string Path, string ResourceType, string? Id)
{
    public string? FullUrl { get; init; }
    public string? Status { get; init; }
    /// <summary>Observation, Condition and Medication <c>code</c>.</summary>
    public string? Code { get; init; }
    public string? ClinicalStatus { get; init; }
    public string? VerificationStatus { get; init; }
    public string? Abatement { get; init; }
    /// <summary>Observation <c>effective[x]</c>, as "dateTime …", "period …..…" or "instant …".</summary>
    public string? Effective { get; init; }
    public string? Issued { get; init; }
    public string? ValueQuantity { get; init; }
    public string? ValueString { get; init; }
    /// <summary>MedicationRequest / MedicationStatement <c>medication[x]</c>.</summary>
    public string? Medication { get; init; }
    public string? Ingredients { get; init; }
    public string? BirthDate { get; init; }
    public string? Gender { get; init; }
    public string? Links { get; init; }
    public string? Next { get; init; }
    /// <summary>Bundle entries (none and <c>[]</c> alike).</summary>
    public int? Entries { get; init; }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(Path).Append(": ").Append(ResourceType);
        if (Id is not null) builder.Append('/').Append(Id);
        Field(builder, nameof(FullUrl), FullUrl);
        Field(builder, nameof(Status), Status);
        Field(builder, nameof(Code), Code);
        Field(builder, nameof(ClinicalStatus), ClinicalStatus);
        Field(builder, nameof(VerificationStatus), VerificationStatus);
        Field(builder, nameof(Abatement), Abatement);
        Field(builder, nameof(Effective), Effective);
        Field(builder, nameof(Issued), Issued);
        Field(builder, nameof(ValueQuantity), ValueQuantity);
        Field(builder, nameof(ValueString), ValueString);
        Field(builder, nameof(Medication), Medication);
        Field(builder, nameof(Ingredients), Ingredients);
        Field(builder, nameof(BirthDate), BirthDate);
        Field(builder, nameof(Gender), Gender);
        Field(builder, nameof(Links), Links);
        Field(builder, nameof(Next), Next);
        Field(builder, nameof(Entries), Entries?.ToString(CultureInfo.InvariantCulture));
        return true;
    }

    private static void Field(StringBuilder builder, string name, string? value)
    {
        if (value is not null) builder.Append(", ").Append(name).Append(" = ").Append(value);
    }
}

/// <summary>How both projections write a datatype, so that equal data gives equal text.</summary>
public static class RuleText
{
    /// <summary>The resource types whose rule fields are compared; others are compared by type and id only.</summary>
    public static readonly IReadOnlySet<string> RuleResourceTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Bundle", "Patient", "Observation", "Condition", "MedicationRequest", "MedicationStatement", "Medication",
    };

    public static string? Concept(IEnumerable<(string? System, string? Code, string? Display)>? codings, string? text, bool present)
    {
        if (!present) return null;
        var parts = (codings ?? []).Select(c => $"{c.System}|{c.Code}|{c.Display}");
        return $"[{string.Join(", ", parts)}] {text}";
    }

    /// <summary>The value keeps its scale ("1.50" is not "1.5"): the digits are part of what the reader must keep.</summary>
    public static string Quantity(decimal? value, string? comparator, string? unit, string? system, string? code) =>
        $"{comparator}{value?.ToString(CultureInfo.InvariantCulture)} unit={unit} system={system} code={code}";

    public static string Reference(string? reference, string? display) => $"reference {reference} ({display})";

    public static string? Join(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? null : string.Join("; ", list);
    }
}
