using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using CdsHooks.Fhir;

namespace CdsHooks.Rls.Knowledge;

/// <summary>A drug the knowledge file knows, by ingredient.</summary>
public sealed record KnownDrug(string Ingredient, DrugClass Class, string SourceKey);

/// <summary>The guideline behind a card: label and link for <c>card.source</c>.</summary>
public sealed record Guideline(string Key, string Citation, string? Url);

/// <summary>Iron thresholds in canonical units (ng/mL, %, mg/L, g/dL), all from the knowledge file.</summary>
public sealed record IronThresholds(
    int AdultAgeYears,
    int IronStudiesWindowDays,
    decimal FerritinIronTherapyMax,
    decimal TsatIronTherapyBelow,
    decimal FerritinIvIronMax,
    decimal TsatIvIronBelow,
    decimal FerritinHardStop,
    decimal CrpRaisedAbove,
    decimal HemoglobinLowBelow);

/// <summary>
/// The knowledge file compiled into lookups once at start-up (frozen dictionaries, phrase indexes).
/// Loading fails with a message naming the bad entry, so a broken edit stops the service at boot.
/// </summary>
public sealed class RlsKnowledge
{
    public const string EmbeddedResourceName = "rls-knowledge.json";

    private readonly FrozenDictionary<string, Analyte> _loinc;
    private readonly FrozenDictionary<Analyte, FrozenDictionary<string, decimal>> _unitFactors;
    private readonly FrozenDictionary<Analyte, string> _canonicalUnits;
    private readonly FrozenDictionary<string, ConditionKind> _conditionCodes;
    private readonly FrozenDictionary<string, KnownDrug> _drugCodes;
    private readonly (string Prefix, DrugClass Class, string[] Except)[] _atcPrefixes;
    private readonly FrozenDictionary<DrugClass, (CardKind? Card, string Display)> _classes;
    private readonly FrozenDictionary<CardKind, Guideline> _guidelines;
    private readonly FrozenSet<string> _acceptedStatuses;

    private RlsKnowledge(KnowledgeDocument doc, bool acceptPreliminary, int? windowOverrideDays)
    {
        var errors = new List<string>();
        var sources = doc.Sources ?? [];
        Version = doc.Version ?? "unversioned";

        string Src(string? key, string where)
        {
            if (key is null || !sources.ContainsKey(key)) errors.Add($"{where}: source '{key}' is not defined in 'sources'.");
            return key ?? "";
        }

        decimal T(string name)
        {
            if (doc.Thresholds is null || !doc.Thresholds.TryGetValue(name, out var t) || t.Value is null)
            {
                errors.Add($"thresholds.{name}: missing value.");
                return 0;
            }
            Src(t.Source, $"thresholds.{name}");
            return t.Value.Value;
        }

        Thresholds = new IronThresholds(
            (int)T("adultAgeYears"),
            windowOverrideDays ?? (int)T("ironStudiesWindowDays"),
            T("ferritinIronTherapyMaxNgPerMl"),
            T("tsatIronTherapyBelowPercent"),
            T("ferritinIvIronMaxNgPerMl"),
            T("tsatIvIronBelowPercent"),
            T("ferritinIronHardStopNgPerMl"),
            T("crpRaisedAboveMgPerL"),
            T("hemoglobinLowBelowGPerDl"));
        if (!(Thresholds.FerritinIronTherapyMax < Thresholds.FerritinIvIronMax && Thresholds.FerritinIvIronMax < Thresholds.FerritinHardStop))
        {
            errors.Add("thresholds: ferritin thresholds must rise: iron therapy < IV iron < hard stop.");
        }

        var statuses = new HashSet<string>(doc.AcceptedObservationStatuses ?? [], StringComparer.Ordinal);
        if (statuses.Count == 0) errors.Add("acceptedObservationStatuses: empty.");
        if (acceptPreliminary && doc.PreliminaryStatus is not null) statuses.Add(doc.PreliminaryStatus);
        _acceptedStatuses = statuses.ToFrozenSet(StringComparer.Ordinal);

        var loinc = new Dictionary<string, Analyte>(StringComparer.Ordinal);
        foreach (var (lab, i) in (doc.Labs ?? []).Select((l, i) => (l, i)))
        {
            var analyte = CardKinds.ParseAnalyte(lab.Analyte);
            if (analyte is null || string.IsNullOrWhiteSpace(lab.Loinc)) { errors.Add($"labs[{i}]: unknown analyte '{lab.Analyte}' or no loinc."); continue; }
            Src(lab.Source, $"labs[{i}]");
            loinc[lab.Loinc] = analyte.Value;
        }
        _loinc = loinc.ToFrozenDictionary(StringComparer.Ordinal);
        LabCodesByAnalyte = loinc.GroupBy(kv => kv.Value).ToFrozenDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(kv => kv.Key)]);

        var factors = new Dictionary<Analyte, FrozenDictionary<string, decimal>>();
        var canonical = new Dictionary<Analyte, string>();
        foreach (var (u, i) in (doc.Units ?? []).Select((u, i) => (u, i)))
        {
            var analyte = CardKinds.ParseAnalyte(u.Analyte);
            if (analyte is null || u.Canonical is null || u.Accepts is null) { errors.Add($"units[{i}]: needs analyte, canonical and accepts."); continue; }
            Src(u.Source, $"units[{i}]");
            factors[analyte.Value] = u.Accepts.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
            canonical[analyte.Value] = u.Canonical;
        }
        foreach (var analyte in Enum.GetValues<Analyte>())
        {
            if (!factors.ContainsKey(analyte)) errors.Add($"units: no entry for analyte '{analyte.ToString().ToLowerInvariant()}'.");
        }
        _unitFactors = factors.ToFrozenDictionary();
        _canonicalUnits = canonical.ToFrozenDictionary();

        var conditionCodes = new Dictionary<string, ConditionKind>(StringComparer.Ordinal);
        foreach (var (c, i) in (doc.Conditions ?? []).Select((c, i) => (c, i)))
        {
            var kind = CardKinds.ParseConditionKind(c.Kind);
            if (kind is null || c.System is null || c.Code is null) { errors.Add($"conditions[{i}]: needs kind, system and code."); continue; }
            Src(c.Source, $"conditions[{i}]");
            conditionCodes[Key(c.System, c.Code)] = kind.Value;
        }
        _conditionCodes = conditionCodes.ToFrozenDictionary(StringComparer.Ordinal);
        RlsConditionCodes = [.. (doc.Conditions ?? []).Where(c => c.Kind == "rls").Select(c => new Coding(c.System!, c.Code!, c.Display))];
        AnxietyConditionCodes = [.. (doc.Conditions ?? []).Where(c => c.Kind == "anxiety").Select(c => new Coding(c.System!, c.Code!, c.Display))];

        ConditionNames = new PhraseIndex<ConditionKind>((doc.ConditionNames ?? [])
            .Where(e => CardKinds.ParseConditionKind(e.Kind) is not null)
            .SelectMany(e => (e.Names ?? []).Select(n => KeyValuePair.Create(n, CardKinds.ParseConditionKind(e.Kind)!.Value))));

        var classes = new Dictionary<DrugClass, (CardKind?, string)>();
        foreach (var (c, i) in (doc.DrugClasses ?? []).Select((c, i) => (c, i)))
        {
            var cls = CardKinds.ParseDrugClass(c.Class);
            if (cls is null) { errors.Add($"drugClasses[{i}]: unknown class '{c.Class}'."); continue; }
            Src(c.Source, $"drugClasses[{i}]");
            CardKind? card = c.Card is null ? null : CardKinds.FromCode(c.Card);
            if (c.Card is not null && card is null) errors.Add($"drugClasses[{i}]: unknown card '{c.Card}'.");
            classes[cls.Value] = (card, c.Display ?? c.Class!);
        }
        foreach (var cls in Enum.GetValues<DrugClass>())
        {
            if (!classes.ContainsKey(cls)) errors.Add($"drugClasses: no entry for class '{cls}'.");
        }
        _classes = classes.ToFrozenDictionary();

        var drugCodes = new Dictionary<string, KnownDrug>(StringComparer.Ordinal);
        var names = new List<KeyValuePair<string, KnownDrug>>();
        var byIngredient = new Dictionary<string, KnownDrug>(StringComparer.OrdinalIgnoreCase);
        foreach (var (d, i) in (doc.Drugs ?? []).Select((d, i) => (d, i)))
        {
            var cls = CardKinds.ParseDrugClass(d.Class);
            if (cls is null || string.IsNullOrWhiteSpace(d.Ingredient)) { errors.Add($"drugs[{i}] ({d.Ingredient ?? "no ingredient"}): needs ingredient and a known class (got '{d.Class}')."); continue; }
            var drug = new KnownDrug(d.Ingredient, cls.Value, Src(d.Source, $"drugs[{i}] ({d.Ingredient})"));
            byIngredient[d.Ingredient] = drug;
            foreach (var code in d.Rxnorm ?? []) drugCodes[Key(FhirSystems.RxNorm, code)] = drug;
            foreach (var code in d.Atc ?? []) drugCodes[Key(FhirSystems.Atc, code)] = drug;
            names.Add(KeyValuePair.Create(d.Ingredient, drug));
            foreach (var n in d.Names ?? []) names.Add(KeyValuePair.Create(n, drug));
        }
        foreach (var (p, i) in (doc.ProductCodes ?? []).Select((p, i) => (p, i)))
        {
            if (p.System is null || p.Code is null || p.Ingredient is null || !byIngredient.TryGetValue(p.Ingredient, out var drug))
            {
                errors.Add($"productCodes[{i}]: needs system, code and an ingredient listed in 'drugs'.");
                continue;
            }
            Src(p.Source, $"productCodes[{i}]");
            drugCodes[Key(p.System, p.Code)] = drug;
        }
        _drugCodes = drugCodes.ToFrozenDictionary(StringComparer.Ordinal);
        DrugNames = new PhraseIndex<KnownDrug>(names);
        DrugsByIngredient = byIngredient.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

        _atcPrefixes = [.. (doc.AtcPrefixes ?? [])
            .Select((a, i) =>
            {
                var cls = CardKinds.ParseDrugClass(a.Class);
                if (cls is null || string.IsNullOrWhiteSpace(a.Prefix)) errors.Add($"atcPrefixes[{i}]: needs prefix and a known class.");
                Src(a.Source, $"atcPrefixes[{i}]");
                return (a.Prefix ?? "", cls ?? DrugClass.Ssri, (a.Except ?? []).ToArray());
            })
            .OrderByDescending(a => a.Item1.Length)];

        var order = doc.IronStudiesOrder;
        if (order?.Codes is not { Count: > 0 } || string.IsNullOrWhiteSpace(order.PatientInstruction))
        {
            errors.Add("ironStudiesOrder: needs codes and patientInstruction.");
        }
        else
        {
            Src(order.Source, "ironStudiesOrder");
        }
        IronStudiesOrderCodes = [.. (order?.Codes ?? []).Select(c => new Coding(c.System ?? "", c.Code ?? "", c.Display))];
        IronStudiesPatientInstruction = order?.PatientInstruction ?? "";

        var guidelines = new Dictionary<CardKind, Guideline>();
        foreach (var kind in CardKinds.All)
        {
            if (doc.Guidelines is null || !doc.Guidelines.TryGetValue(kind.Code(), out var key) || !sources.TryGetValue(key, out var src))
            {
                errors.Add($"guidelines.{kind.Code()}: missing, or its source is not defined.");
                continue;
            }
            guidelines[kind] = new Guideline(key, src.Citation ?? key, src.Url);
        }
        _guidelines = guidelines.ToFrozenDictionary();
        Sources = sources.ToFrozenDictionary(StringComparer.Ordinal);

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The RLS knowledge file is invalid:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errors));
        }
    }

    public string Version { get; }
    public IronThresholds Thresholds { get; }
    public FrozenDictionary<string, KnowledgeSource> Sources { get; }
    public FrozenDictionary<Analyte, IReadOnlyList<string>> LabCodesByAnalyte { get; }
    public IReadOnlyList<Coding> RlsConditionCodes { get; }
    public IReadOnlyList<Coding> AnxietyConditionCodes { get; }
    public IReadOnlyList<Coding> IronStudiesOrderCodes { get; }
    public string IronStudiesPatientInstruction { get; }
    public PhraseIndex<ConditionKind> ConditionNames { get; }
    public PhraseIndex<KnownDrug> DrugNames { get; }
    public FrozenDictionary<string, KnownDrug> DrugsByIngredient { get; }

    public bool IsAcceptedStatus(string? status) => status is not null && _acceptedStatuses.Contains(status);

    public Analyte? AnalyteForLoinc(string code) => _loinc.TryGetValue(code, out var a) ? a : null;

    public string CanonicalUnit(Analyte analyte) => _canonicalUnits[analyte];

    /// <summary>Converts to the canonical unit, or returns false for a unit the file does not list (never guessed).</summary>
    public bool TryConvert(Analyte analyte, string unit, decimal value, out decimal canonical)
    {
        if (_unitFactors[analyte].TryGetValue(unit.Trim(), out var factor))
        {
            canonical = value * factor;
            return true;
        }
        canonical = 0;
        return false;
    }

    public ConditionKind? ConditionKindFor(string? system, string? code) =>
        system is not null && code is not null && _conditionCodes.TryGetValue(Key(system, code), out var k) ? k : null;

    public KnownDrug? DrugForCode(string? system, string? code) =>
        system is not null && code is not null && _drugCodes.TryGetValue(Key(system, code), out var d) ? d : null;

    /// <summary>The class an ATC code falls in by prefix (longest prefix first, honouring exceptions such as lithium).</summary>
    public DrugClass? ClassForAtc(string atc)
    {
        foreach (var (prefix, cls, except) in _atcPrefixes)
        {
            if (!atc.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            if (except.Any(e => atc.StartsWith(e, StringComparison.OrdinalIgnoreCase))) return null;
            return cls;
        }
        return null;
    }

    public CardKind? CardFor(DrugClass cls) => _classes[cls].Card;

    public string ClassDisplay(DrugClass cls) => _classes[cls].Display;

    public Guideline GuidelineFor(CardKind kind) => _guidelines[kind];

    public Guideline? Source(string key) =>
        Sources.TryGetValue(key, out var s) ? new Guideline(key, s.Citation ?? key, s.Url) : null;

    private static string Key(string system, string code) => system + "|" + code;

    /// <summary>Loads the file at <paramref name="path"/>, or the copy embedded in this assembly when null.</summary>
    public static RlsKnowledge Load(string? path = null, bool acceptPreliminary = false, int? windowOverrideDays = null)
    {
        using var stream = path is null
            ? typeof(RlsKnowledge).Assembly.GetManifestResourceStream(EmbeddedResourceName)
                ?? throw new InvalidOperationException($"Embedded resource {EmbeddedResourceName} is missing.")
            : File.OpenRead(path);
        KnowledgeDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(stream, KnowledgeJsonContext.Default.KnowledgeDocument);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The RLS knowledge file {path ?? EmbeddedResourceName} is not valid JSON: {ex.Message}", ex);
        }
        return new RlsKnowledge(doc ?? new KnowledgeDocument(), acceptPreliminary, windowOverrideDays);
    }

    private static readonly Lazy<RlsKnowledge> EmbeddedDefault = new(() => Load());

    /// <summary>The embedded knowledge with default options (tests, benchmarks).</summary>
    public static RlsKnowledge Default => EmbeddedDefault.Value;

    internal static Assembly Assembly => typeof(RlsKnowledge).Assembly;
}
