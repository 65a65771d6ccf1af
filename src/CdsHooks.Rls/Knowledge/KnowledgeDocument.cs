using System.Text.Json.Serialization;

namespace CdsHooks.Rls.Knowledge;

// The shape of rls-knowledge.json. Every entry names a source key; RlsKnowledge.Compile checks that it exists.

public sealed class KnowledgeDocument
{
    public string? Version { get; set; }
    public Dictionary<string, KnowledgeSource>? Sources { get; set; }
    public Dictionary<string, ThresholdEntry>? Thresholds { get; set; }
    public List<string>? AcceptedObservationStatuses { get; set; }
    public string? PreliminaryStatus { get; set; }
    public List<LabEntry>? Labs { get; set; }
    public IronStudiesOrderEntry? IronStudiesOrder { get; set; }
    public List<UnitEntry>? Units { get; set; }
    public List<ConditionCodeEntry>? Conditions { get; set; }
    public List<ConditionNamesEntry>? ConditionNames { get; set; }
    public List<DrugClassEntry>? DrugClasses { get; set; }
    public List<AtcPrefixEntry>? AtcPrefixes { get; set; }
    public List<DrugEntry>? Drugs { get; set; }
    public List<ProductCodeEntry>? ProductCodes { get; set; }
    public Dictionary<string, string>? Guidelines { get; set; }
}

public sealed class KnowledgeSource
{
    public string? Citation { get; set; }
    public string? Url { get; set; }
    public string? Status { get; set; }
}

public sealed class ThresholdEntry
{
    public decimal? Value { get; set; }
    public string? Source { get; set; }
    public string? Note { get; set; }
}

public sealed class LabEntry
{
    public string? Analyte { get; set; }
    public string? Loinc { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class IronStudiesOrderEntry
{
    public List<CodeEntry>? Codes { get; set; }
    public string? Source { get; set; }
    public string? PatientInstruction { get; set; }
    public string? Note { get; set; }
}

public sealed class CodeEntry
{
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Display { get; set; }
}

public sealed class UnitEntry
{
    public string? Analyte { get; set; }
    public string? Canonical { get; set; }
    public Dictionary<string, decimal>? Accepts { get; set; }
    public string? Source { get; set; }
}

public sealed class ConditionCodeEntry
{
    public string? Kind { get; set; }
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class ConditionNamesEntry
{
    public string? Kind { get; set; }
    public List<string>? Names { get; set; }
    public string? Source { get; set; }
}

public sealed class DrugClassEntry
{
    public string? Class { get; set; }
    public string? Card { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
}

public sealed class AtcPrefixEntry
{
    public string? Prefix { get; set; }
    public string? Class { get; set; }
    public List<string>? Except { get; set; }
    public string? Source { get; set; }
}

public sealed class DrugEntry
{
    public string? Ingredient { get; set; }
    public string? Class { get; set; }
    public List<string>? Rxnorm { get; set; }
    public List<string>? Atc { get; set; }
    public List<string>? Names { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class ProductCodeEntry
{
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Ingredient { get; set; }
    public string? Source { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(KnowledgeDocument))]
internal sealed partial class KnowledgeJsonContext : JsonSerializerContext;
