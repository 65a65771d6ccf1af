using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using CdsHooks.Fhir;

namespace CdsHooks.Rls.Knowledge;

public enum PregnancyAnswer
{
    Pregnant,
    NotPregnant,
    Unknown,
}

/// <summary>
/// The knowledge file compiled into lookups once at start-up (frozen dictionaries, phrase indexes).
/// Loading fails with a message naming every bad or missing entry, so a broken edit stops the service at boot.
/// </summary>
public sealed class RlsKnowledge
{
    public const string EmbeddedResourceName = "rls-knowledge.json";

    private static readonly string[] Statuses = ["VERIFIED", "CORROBORATED", "UNVERIFIED", "DESIGN"];

    private readonly FrozenDictionary<string, Analyte> _loinc;
    private readonly FrozenDictionary<string, IReadOnlyList<Analyte>> _panelCovers;
    private readonly FrozenDictionary<Analyte, FrozenDictionary<string, decimal>> _unitFactors;
    private readonly FrozenDictionary<Analyte, string> _canonicalUnits;
    private readonly FrozenDictionary<string, ConditionKind> _conditionCodes;
    private readonly FrozenDictionary<string, ConditionKind>.AlternateLookup<ReadOnlySpan<char>> _conditionCodesBySpan;
    private readonly (string System, string Prefix, ConditionKind Kind, string[] Except, bool Trimester, bool Weeks)[] _conditionPrefixes;
    private readonly FrozenDictionary<string, KnownDrug> _drugCodes;
    private readonly FrozenDictionary<string, KnownDrug>.AlternateLookup<ReadOnlySpan<char>> _drugCodesBySpan;
    private readonly (string Prefix, DrugClass Class, string[] Except)[] _atcPrefixes;
    private readonly FrozenDictionary<DrugClass, (CardKind? Card, string Display, string? Alternatives)> _classes;
    private readonly FrozenSet<string> _acceptedStatuses;
    private readonly FrozenSet<string> _pregnancyStatusLoinc;
    private readonly FrozenSet<string> _gestationalAgeLoinc;
    private readonly FrozenSet<string> _deliveryDateLoinc;
    private readonly FrozenDictionary<string, PregnancyAnswer> _pregnancyAnswers;
    private readonly FrozenDictionary<string, decimal> _gestationalAgeUnits;

    private RlsKnowledge(KnowledgeDocument doc, bool acceptPreliminary, int? windowOverrideDays)
    {
        var errors = new List<string>();
        var sources = doc.Sources ?? [];
        Version = doc.Version ?? "unversioned";
        foreach (var (key, source) in sources)
        {
            if (string.IsNullOrWhiteSpace(source.Citation)) errors.Add($"sources.{key}: needs a citation.");
            if (source.Status is null || !Statuses.Any(s => source.Status.StartsWith(s, StringComparison.Ordinal)))
            {
                errors.Add($"sources.{key}: status must start with one of {string.Join(", ", Statuses)} (got '{source.Status}').");
            }
        }

        string Src(string? key, string where)
        {
            if (key is null || !sources.ContainsKey(key)) errors.Add($"{where}: source '{key}' is not defined in 'sources'.");
            return key ?? "";
        }

        Guideline? GuidelineOf(string? key, string where)
        {
            if (key is null || !sources.TryGetValue(key, out var s))
            {
                errors.Add($"{where}: source '{key}' is not defined in 'sources'.");
                return null;
            }
            return new Guideline(key, s.Citation ?? key, s.ShortCitation ?? s.Citation ?? key, s.Url);
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

        Thresholds = new ClinicalThresholds
        {
            AdultAgeYears = (int)T("adultAgeYears"),
            IronStudiesWindowDays = windowOverrideDays ?? (int)T("ironStudiesWindowDays"),
            FerritinIronTherapyMax = T("ferritinIronTherapyMaxNgPerMl"),
            TsatIronTherapyBelow = T("tsatIronTherapyBelowPercent"),
            FerritinIvIronMax = T("ferritinIvIronMaxNgPerMl"),
            TsatIvIronBelow = T("tsatIvIronBelowPercent"),
            FerritinHardStop = T("ferritinIronHardStopNgPerMl"),
            CrpRaisedAbove = T("crpRaisedAboveMgPerL"),
            HemoglobinLowBelow = T("hemoglobinLowBelowGPerDl"),
            IvIronLookbackDays = (int)T("ivIronLookbackDays"),
            PhosphateWindowDays = (int)T("phosphateWindowDays"),
            PhosphateLowBelow = T("phosphateLowBelowMgPerDl"),
            SecondTrimesterFromWeeks = T("pregnancySecondTrimesterFromWeeks"),
            ThirdTrimesterFromWeeks = T("pregnancyThirdTrimesterFromWeeks"),
            TermWeeks = T("pregnancyTermWeeks"),
            PregnancyOverAfterWeeks = T("pregnancyOverAfterWeeks"),
            PregnancyStatusWindowDays = (int)T("pregnancyStatusWindowDays"),
            PregnancyPossibleFromAge = (int)T("pregnancyPossibleFromAgeYears"),
            PregnancyPossibleToAge = (int)T("pregnancyPossibleToAgeYears"),
            EgfrKidneyFailureBelow = T("egfrKidneyFailureBelow"),
            LabFutureToleranceHours = (int)T("labFutureToleranceHours"),
            EarliestPlausibleBirthYear = (int)T("earliestPlausibleBirthYear"),
            PediatricFerritinBelow = T("pediatricFerritinBelowNgPerMl"),
            IronRetestAfterOralDays = (int)T("ironRetestAfterOralDays"),
            IronRetestAfterIvDays = (int)T("ironRetestAfterIvDays"),
            TsatOverloadWorkupAtLeast = T("tsatOverloadWorkupAtLeastPercent"),
            IdaFerritinBelow = T("idaFerritinBelowNgPerMl"),
            HemoglobinLowMenBelow = T("hemoglobinLowMenBelowGPerDl"),
            PostMenopausalFromAge = (int)T("postMenopausalFromAgeYears"),
        };
        var th = Thresholds;
        if (!(th.FerritinIronTherapyMax < th.FerritinIvIronMax && th.FerritinIvIronMax < th.FerritinHardStop))
        {
            errors.Add("thresholds: ferritin thresholds must rise: iron therapy < IV iron < hard stop.");
        }
        if (!(th.TsatIronTherapyBelow < th.TsatIvIronBelow)) errors.Add("thresholds: tsatIronTherapyBelowPercent must be below tsatIvIronBelowPercent.");
        if (!(0 < th.SecondTrimesterFromWeeks && th.SecondTrimesterFromWeeks < th.ThirdTrimesterFromWeeks && th.ThirdTrimesterFromWeeks < th.TermWeeks && th.TermWeeks < th.PregnancyOverAfterWeeks))
        {
            errors.Add("thresholds: pregnancy weeks must rise: second trimester < third trimester < term < over.");
        }
        if (th.PregnancyPossibleFromAge >= th.PregnancyPossibleToAge) errors.Add("thresholds: pregnancyPossibleFromAgeYears must be below pregnancyPossibleToAgeYears.");

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
        foreach (var analyte in Enum.GetValues<Analyte>())
        {
            if (!LabCodesByAnalyte.ContainsKey(analyte)) errors.Add($"labs: no LOINC code for analyte '{CardKinds.FileName(analyte)}'.");
        }

        var panels = new Dictionary<string, IReadOnlyList<Analyte>>(StringComparer.Ordinal);
        foreach (var (panel, i) in (doc.Panels ?? []).Select((p, i) => (p, i)))
        {
            var covers = (panel.Covers ?? []).Select(CardKinds.ParseAnalyte).ToList();
            if (string.IsNullOrWhiteSpace(panel.Loinc) || covers.Count == 0 || covers.Any(a => a is null)) { errors.Add($"panels[{i}]: needs loinc and covers naming known analytes."); continue; }
            Src(panel.Source, $"panels[{i}]");
            panels[panel.Loinc] = [.. covers.Select(a => a!.Value)];
        }
        foreach (var (code, analyte) in loinc) panels.TryAdd(code, [analyte]);
        _panelCovers = panels.ToFrozenDictionary(StringComparer.Ordinal);

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
            if (!factors.ContainsKey(analyte)) errors.Add($"units: no entry for analyte '{CardKinds.FileName(analyte)}'.");
        }
        _unitFactors = factors.ToFrozenDictionary();
        _canonicalUnits = canonical.ToFrozenDictionary();

        var pregnancy = doc.PregnancyObservations;
        if (pregnancy is null || pregnancy.StatusLoinc is not { Count: > 0 } || pregnancy.StatusAnswers is not { Count: > 0 }
            || pregnancy.GestationalAgeLoinc is not { Count: > 0 } || pregnancy.GestationalAgeUnits is not { Count: > 0 } || pregnancy.DeliveryDateLoinc is not { Count: > 0 })
        {
            errors.Add("pregnancyObservations: needs statusLoinc, statusAnswers, gestationalAgeLoinc, gestationalAgeUnits and deliveryDateLoinc.");
        }
        else
        {
            Src(pregnancy.Source, "pregnancyObservations");
        }
        _pregnancyStatusLoinc = (pregnancy?.StatusLoinc ?? []).ToFrozenSet(StringComparer.Ordinal);
        _gestationalAgeLoinc = (pregnancy?.GestationalAgeLoinc ?? []).ToFrozenSet(StringComparer.Ordinal);
        _deliveryDateLoinc = (pregnancy?.DeliveryDateLoinc ?? []).ToFrozenSet(StringComparer.Ordinal);
        _gestationalAgeUnits = (pregnancy?.GestationalAgeUnits ?? []).ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        var answers = new Dictionary<string, PregnancyAnswer>(StringComparer.Ordinal);
        foreach (var (code, meaning) in pregnancy?.StatusAnswers ?? [])
        {
            PregnancyAnswer? answer = meaning switch
            {
                "pregnant" => PregnancyAnswer.Pregnant,
                "not-pregnant" => PregnancyAnswer.NotPregnant,
                "unknown" => PregnancyAnswer.Unknown,
                _ => null,
            };
            if (answer is null) errors.Add($"pregnancyObservations.statusAnswers.{code}: must be pregnant, not-pregnant or unknown (got '{meaning}').");
            else answers[code] = answer.Value;
        }
        _pregnancyAnswers = answers.ToFrozenDictionary(StringComparer.Ordinal);

        var conditionCodes = new Dictionary<string, ConditionKind>(StringComparer.Ordinal);
        foreach (var (c, i) in (doc.Conditions ?? []).Select((c, i) => (c, i)))
        {
            var kind = CardKinds.ParseConditionKind(c.Kind);
            if (kind is null || c.System is null || c.Code is null) { errors.Add($"conditions[{i}]: needs a known kind (got '{c.Kind}'), system and code."); continue; }
            Src(c.Source, $"conditions[{i}] ({c.Code})");
            conditionCodes[Key(c.System, c.Code)] = kind.Value;
        }
        _conditionCodes = conditionCodes.ToFrozenDictionary(StringComparer.Ordinal);
        _conditionCodesBySpan = _conditionCodes.GetAlternateLookup<ReadOnlySpan<char>>();
        RlsConditionCodes = [.. (doc.Conditions ?? []).Where(c => c.Kind == "rls" && c.System is not null && c.Code is not null).Select(c => new Coding(c.System!, c.Code!, c.Display))];
        if (RlsConditionCodes.Count == 0) errors.Add("conditions: no code of kind 'rls'.");

        var prefixes = new List<(string, string, ConditionKind, string[], bool, bool)>();
        foreach (var (p, i) in (doc.ConditionPrefixes ?? []).Select((p, i) => (p, i)))
        {
            var kind = CardKinds.ParseConditionKind(p.Kind);
            if (kind is null || string.IsNullOrEmpty(p.System) || string.IsNullOrEmpty(p.Prefix)) { errors.Add($"conditionPrefixes[{i}]: needs a known kind (got '{p.Kind}'), system and prefix."); continue; }
            Src(p.Source, $"conditionPrefixes[{i}] ({p.Prefix})");
            prefixes.Add((p.System, p.Prefix, kind.Value, [.. p.Except ?? []], p.TrimesterInLastDigit, p.WeeksOfGestation));
        }
        _conditionPrefixes = [.. prefixes.OrderByDescending(p => p.Item2.Length)];

        var conditionNames = new List<KeyValuePair<string, ConditionKind>>();
        foreach (var (e, i) in (doc.ConditionNames ?? []).Select((e, i) => (e, i)))
        {
            var kind = CardKinds.ParseConditionKind(e.Kind);
            if (kind is null) { errors.Add($"conditionNames[{i}]: unknown kind '{e.Kind}'."); continue; }
            Src(e.Source, $"conditionNames[{i}]");
            conditionNames.AddRange((e.Names ?? []).Select(n => KeyValuePair.Create(n, kind.Value)));
        }
        ConditionNames = new PhraseIndex<ConditionKind>(conditionNames);

        var classes = new Dictionary<DrugClass, (CardKind?, string, string?)>();
        foreach (var (c, i) in (doc.DrugClasses ?? []).Select((c, i) => (c, i)))
        {
            var cls = CardKinds.ParseDrugClass(c.Class);
            if (cls is null) { errors.Add($"drugClasses[{i}]: unknown class '{c.Class}'."); continue; }
            Src(c.Source, $"drugClasses[{i}]");
            CardKind? card = c.Card is null ? null : CardKinds.FromCode(c.Card);
            if (c.Card is not null && card is not (CardKind.SsriCaution or CardKind.AggravatingDrugCaution)) errors.Add($"drugClasses[{i}]: card '{c.Card}' is not a drug caution card.");
            if (card is not null && (c.Alternatives is null || doc.SaferAlternatives?.ContainsKey(c.Alternatives) != true))
            {
                errors.Add($"drugClasses[{i}]: a class with a caution card needs 'alternatives' naming an entry of saferAlternatives (got '{c.Alternatives}').");
            }
            classes[cls.Value] = (card, c.Display ?? c.Class!, c.Alternatives);
        }
        foreach (var cls in Enum.GetValues<DrugClass>())
        {
            if (!classes.ContainsKey(cls)) errors.Add($"drugClasses: no entry for class '{CardKinds.FileName(cls)}'.");
        }
        _classes = classes.ToFrozenDictionary();

        var drugCodes = new Dictionary<string, KnownDrug>(StringComparer.Ordinal);
        var names = new List<KeyValuePair<string, KnownDrug>>();
        var byIngredient = new Dictionary<string, KnownDrug>(StringComparer.OrdinalIgnoreCase);
        foreach (var (d, i) in (doc.Drugs ?? []).Select((d, i) => (d, i)))
        {
            var cls = CardKinds.ParseDrugClass(d.Class);
            if (cls is null || string.IsNullOrWhiteSpace(d.Ingredient)) { errors.Add($"drugs[{i}] ({d.Ingredient ?? "no ingredient"}): needs ingredient and a known class (got '{d.Class}')."); continue; }
            HashSet<ConditionKind>? unless = null;
            if (d.RlsEvidenceUnless is not null)
            {
                unless = [];
                foreach (var k in d.RlsEvidenceUnless)
                {
                    if (CardKinds.ParseConditionKind(k) is { } kind) unless.Add(kind);
                    else errors.Add($"drugs[{i}] ({d.Ingredient}): rlsEvidenceUnless names unknown condition kind '{k}'.");
                }
            }
            var drug = new KnownDrug(d.Ingredient, cls.Value, Src(d.Source, $"drugs[{i}] ({d.Ingredient})"), unless?.ToFrozenSet());
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
        _drugCodesBySpan = _drugCodes.GetAlternateLookup<ReadOnlySpan<char>>();
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

        var allergy = doc.AllergyNames;
        if (allergy?.AnyIron is not { Count: > 0 } || allergy.IvIron is not { Count: > 0 } || allergy.Serious is not { Count: > 0 })
        {
            errors.Add("allergyNames: needs anyIron, ivIron and serious.");
        }
        else
        {
            Src(allergy.Source, "allergyNames");
        }
        AllergyIronNames = new PhraseIndex<IronForm>((allergy?.AnyIron ?? []).Select(n => KeyValuePair.Create(n, IronForm.Any))
            .Concat((allergy?.IvIron ?? []).Select(n => KeyValuePair.Create(n, IronForm.Iv))));
        SeriousReactionNames = new PhraseIndex<bool>((allergy?.Serious ?? []).Select(n => KeyValuePair.Create(n, true)));

        var labOrders = new Dictionary<string, LabOrder>(StringComparer.Ordinal);
        foreach (var (key, o) in doc.LabOrders ?? [])
        {
            if (o.Codes is not { Count: > 0 } || string.IsNullOrWhiteSpace(o.Label) || o.Codes.Any(c => c.System is null || c.Code is null))
            {
                errors.Add($"labOrders.{key}: needs a label and codes with system and code.");
                continue;
            }
            labOrders[key] = new LabOrder(key, o.Label, [.. o.Codes.Select(c => new Coding(c.System!, c.Code!, c.Display))], o.PatientInstruction, o.Note, Src(o.Source, $"labOrders.{key}"));
        }
        foreach (var key in SuggestionKeys.LabOrders)
        {
            if (!labOrders.ContainsKey(key)) errors.Add($"labOrders.{key}: missing.");
        }
        LabOrders = labOrders.ToFrozenDictionary(StringComparer.Ordinal);

        var products = new Dictionary<string, Product>(StringComparer.Ordinal);
        foreach (var (key, p) in doc.Products ?? [])
        {
            Route? route = p.Route switch { "oral" => Route.Oral, "iv" => Route.Iv, _ => null };
            if (route is null || p.Ingredient is null || !byIngredient.ContainsKey(p.Ingredient) || string.IsNullOrWhiteSpace(p.Label)
                || string.IsNullOrWhiteSpace(p.Text) || string.IsNullOrWhiteSpace(p.Dosage) || string.IsNullOrWhiteSpace(p.ShortName) || string.IsNullOrWhiteSpace(p.Recommendation))
            {
                errors.Add($"products.{key}: needs route (oral|iv), an ingredient listed in 'drugs', label, shortName, text, dosage and recommendation.");
                continue;
            }
            if (p.Rxnorm is { } rx && (rx.System != FhirSystems.RxNorm || string.IsNullOrWhiteSpace(rx.Code) || rx.Status is null || !rx.Status.StartsWith("VERIFIED", StringComparison.Ordinal)))
            {
                // A suggested order is filed as it is: its code must be one a reviewer has checked.
                errors.Add($"products.{key}.rxnorm: needs the RxNorm system, a code and status VERIFIED (an unverified code is left out, not suggested).");
                continue;
            }
            products[key] = new Product(key, p.Ingredient, route.Value, p.Label, p.ShortName,
                p.Rxnorm is null ? null : new Coding(p.Rxnorm.System!, p.Rxnorm.Code!, p.Rxnorm.Display),
                p.Text, p.Dosage, p.Recommendation, p.MinAgeYears, p.MaxAgeYears, Src(p.Source, $"products.{key}"));
        }
        foreach (var key in SuggestionKeys.Products)
        {
            if (!products.ContainsKey(key)) errors.Add($"products.{key}: missing.");
        }
        Products = products.ToFrozenDictionary(StringComparer.Ordinal);

        var contraindications = new Dictionary<string, Contraindication>(StringComparer.Ordinal);
        foreach (var (id, c) in doc.Contraindications ?? [])
        {
            var excludes = IronForm.None;
            foreach (var e in c.Excludes ?? [])
            {
                excludes |= e switch
                {
                    "any-iron" => IronForm.Any,
                    "oral-iron" => IronForm.Oral,
                    "iv-iron" => IronForm.Iv,
                    "ferric-carboxymaltose" => IronForm.FerricCarboxymaltose,
                    _ => Error($"contraindications.{id}: unknown excludes '{e}'."),
                };
            }
            if (excludes == IronForm.None || c.Severity is not ("critical" or "warning") || string.IsNullOrWhiteSpace(c.Text) || string.IsNullOrWhiteSpace(c.Summary))
            {
                errors.Add($"contraindications.{id}: needs excludes, severity (critical|warning), text and summary.");
                continue;
            }
            foreach (var p in CardTextSlots.Placeholders(c.Text).Where(p => p != "detail"))
            {
                errors.Add($"contraindications.{id}.text: unknown placeholder {{{p}}} (only {{detail}}).");
            }
            contraindications[id] = new Contraindication(id, excludes, c.Severity == "critical", c.CautionOnDraft ?? true, c.Text, c.Summary!, Src(c.Source, $"contraindications.{id}"));
        }
        foreach (var id in ContraindicationIds.All)
        {
            if (!contraindications.ContainsKey(id)) errors.Add($"contraindications.{id}: missing.");
        }
        Contraindications = contraindications.ToFrozenDictionary(StringComparer.Ordinal);

        var areas = new Dictionary<DataArea, string>();
        foreach (var (name, entry) in doc.DataAreas ?? [])
        {
            if (CardKinds.ParseDataArea(name) is not { } area || string.IsNullOrWhiteSpace(entry.Name)) { errors.Add($"dataAreas.{name}: unknown area or no name."); continue; }
            areas[area] = entry.Name;
        }
        foreach (var area in Enum.GetValues<DataArea>())
        {
            if (!areas.ContainsKey(area)) errors.Add($"dataAreas.{CardKinds.FileName(area)}: missing.");
        }
        DataAreaNames = areas.ToFrozenDictionary();

        var alternatives = new Dictionary<string, IReadOnlyList<(string, string)>>(StringComparer.Ordinal);
        foreach (var (key, list) in doc.SaferAlternatives ?? [])
        {
            if (list.Count == 0 || list.Any(t => string.IsNullOrWhiteSpace(t.Text))) { errors.Add($"saferAlternatives.{key}: needs entries with text."); continue; }
            alternatives[key] = [.. list.Select((t, i) => (t.Text!, Src(t.Source, $"saferAlternatives.{key}[{i}]")))];
        }
        SaferAlternatives = alternatives.ToFrozenDictionary(StringComparer.Ordinal);

        var cards = new Dictionary<CardKind, CardText>();
        var cardEntries = doc.Cards ?? [];
        foreach (var (name, slots) in CardTextSlots.Required)
        {
            if (!cardEntries.TryGetValue(name, out var entry) || entry.Text is null)
            {
                errors.Add($"cards.{name}: missing, or has no text.");
                continue;
            }
            foreach (var (slot, allowed) in slots)
            {
                if (!entry.Text.TryGetValue(slot, out var template) || string.IsNullOrWhiteSpace(template))
                {
                    errors.Add($"cards.{name}.text.{slot}: missing.");
                    continue;
                }
                foreach (var p in CardTextSlots.Placeholders(template).Where(p => !allowed.Contains(p)))
                {
                    errors.Add($"cards.{name}.text.{slot}: unknown placeholder {{{p}}} (allowed: {(allowed.Length == 0 ? "none" : string.Join(", ", allowed.Select(a => "{" + a + "}")))}).");
                }
            }
            foreach (var extra in entry.Text.Keys.Where(k => !slots.ContainsKey(k)))
            {
                errors.Add($"cards.{name}.text.{extra}: not a template this card uses.");
            }
            if (name == CardTextSlots.Common)
            {
                CommonText = entry.Text.ToFrozenDictionary(StringComparer.Ordinal);
                continue;
            }
            var kind = CardKinds.FromCode(name)!.Value;
            var guideline = GuidelineOf(entry.Guideline, $"cards.{name}.guideline");
            if (string.IsNullOrWhiteSpace(entry.Display)) errors.Add($"cards.{name}.display: missing.");
            if (entry.Explain?.Title is null || entry.Explain.Paragraphs is not { Count: > 0 }) errors.Add($"cards.{name}.explain: needs a title and paragraphs.");
            var paragraphs = (entry.Explain?.Paragraphs ?? []).Select((p, i) =>
                (p.Text ?? "", p.Source is null ? null : GuidelineOf(p.Source, $"cards.{name}.explain.paragraphs[{i}]"))).ToList();
            if (guideline is null) continue;
            cards[kind] = new CardText(kind, entry.Display ?? name, guideline, entry.Text.ToFrozenDictionary(StringComparer.Ordinal),
                [.. (entry.OverrideReasons ?? []).Select(r => new Coding(r.System ?? "", r.Code ?? "", r.Display))],
                entry.Explain?.Title ?? name, paragraphs);
            if (entry.OverrideReasons?.Any(r => r.System is null || r.Code is null || r.Display is null) == true)
            {
                errors.Add($"cards.{name}.overrideReasons: each needs system, code and display.");
            }
        }
        foreach (var name in cardEntries.Keys.Where(k => !CardTextSlots.Required.ContainsKey(k)))
        {
            errors.Add($"cards.{name}: not a card kind of this service.");
        }
        Cards = cards.ToFrozenDictionary();
        CommonText ??= FrozenDictionary<string, string>.Empty;
        Sources = sources.ToFrozenDictionary(StringComparer.Ordinal);

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The RLS knowledge file is invalid:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errors));
        }

        IronForm Error(string message)
        {
            errors.Add(message);
            return IronForm.None;
        }
    }

    public string Version { get; }
    public ClinicalThresholds Thresholds { get; }
    public FrozenDictionary<string, KnowledgeSource> Sources { get; }
    public FrozenDictionary<Analyte, IReadOnlyList<string>> LabCodesByAnalyte { get; }
    public IReadOnlyList<Coding> RlsConditionCodes { get; }
    public PhraseIndex<ConditionKind> ConditionNames { get; }
    public PhraseIndex<KnownDrug> DrugNames { get; }
    public FrozenDictionary<string, KnownDrug> DrugsByIngredient { get; }
    /// <summary>Words in an allergy's text that name iron in general or IV iron (beyond the iron drugs' names).</summary>
    public PhraseIndex<IronForm> AllergyIronNames { get; }
    public PhraseIndex<bool> SeriousReactionNames { get; }
    public FrozenDictionary<string, LabOrder> LabOrders { get; }
    public FrozenDictionary<string, Product> Products { get; }
    public FrozenDictionary<string, Contraindication> Contraindications { get; }
    public FrozenDictionary<DataArea, string> DataAreaNames { get; }
    public FrozenDictionary<string, IReadOnlyList<(string Text, string SourceKey)>> SaferAlternatives { get; }
    public FrozenDictionary<CardKind, CardText> Cards { get; }
    public FrozenDictionary<string, string> CommonText { get; }

    /// <summary>The LOINC codes of pregnancy status, gestational age and estimated delivery date Observations.</summary>
    public IEnumerable<string> PregnancyLoincCodes => _pregnancyStatusLoinc.Concat(_gestationalAgeLoinc).Concat(_deliveryDateLoinc);

    public bool IsAcceptedStatus(string? status) => status is not null && _acceptedStatuses.Contains(status);

    public Analyte? AnalyteForLoinc(string code) => _loinc.TryGetValue(code, out var a) ? a : null;

    /// <summary>The analytes an order of this LOINC code gives: its own analyte, or a panel's.</summary>
    public IReadOnlyList<Analyte> PanelCovers(string loinc) => _panelCovers.TryGetValue(loinc, out var a) ? a : [];

    public bool IsPregnancyStatus(string loinc) => _pregnancyStatusLoinc.Contains(loinc);

    public bool IsGestationalAge(string loinc) => _gestationalAgeLoinc.Contains(loinc);

    public bool IsDeliveryDate(string loinc) => _deliveryDateLoinc.Contains(loinc);

    public PregnancyAnswer? PregnancyAnswerFor(string? code) => code is not null && _pregnancyAnswers.TryGetValue(code, out var a) ? a : null;

    /// <summary>Gestational age in weeks, or false for a unit the file does not list.</summary>
    public bool TryGestationWeeks(string unit, decimal value, out decimal weeks)
    {
        if (_gestationalAgeUnits.TryGetValue(unit.Trim(), out var factor))
        {
            weeks = value * factor;
            return true;
        }
        weeks = 0;
        return false;
    }

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

    /// <summary>The kind of condition a code names: an exact code first, then the longest matching prefix.</summary>
    public ConditionMatch? MatchCondition(string? system, string? code)
    {
        if (system is null || code is null) return null;
        if (TryGetByKey(_conditionCodesBySpan, system, code, out var k)) return new ConditionMatch(k);
        foreach (var (s, prefix, kind, except, trimester, weeks) in _conditionPrefixes)
        {
            if (s != system || !code.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            if (except.Any(e => code.StartsWith(e, StringComparison.OrdinalIgnoreCase))) return null;
            // Z34/O09: the last character is the trimester (0, or 9 for six-character O09 codes, is unspecified).
            int? t = trimester && code[^1] is >= '1' and <= '3' ? code[^1] - '0' : null;
            if (!weeks || !int.TryParse(code.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            {
                return new ConditionMatch(kind, t);
            }
            // Z3A: 01 is "less than 8 weeks", 08-42 the completed week, 49 "greater than 42 weeks", 00 not specified.
            return n switch
            {
                1 => new ConditionMatch(kind, t, 0, 8),
                >= 8 and <= 42 => new ConditionMatch(kind, t, n, n + 1),
                49 => new ConditionMatch(kind, t, 42, null),
                _ => new ConditionMatch(kind, t),
            };
        }
        return null;
    }

    public KnownDrug? DrugForCode(string? system, string? code) =>
        system is not null && code is not null && TryGetByKey(_drugCodesBySpan, system, code, out var d) ? d : null;

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

    public IReadOnlyList<(string Text, string SourceKey)> AlternativesFor(DrugClass cls) =>
        _classes[cls].Alternatives is { } key && SaferAlternatives.TryGetValue(key, out var list) ? list : [];

    public Guideline GuidelineFor(CardKind kind) => Cards[kind].Guideline;

    public Guideline? Source(string key) =>
        Sources.TryGetValue(key, out var s) ? new Guideline(key, s.Citation ?? key, s.ShortCitation ?? s.Citation ?? key, s.Url) : null;

    private static string Key(string system, string code) => system + "|" + code;

    /// <summary>
    /// A probe for <see cref="Key"/>(<paramref name="system"/>, <paramref name="code"/>) built on the stack: every
    /// coding of every hook call is looked up here, and the concatenated key would be garbage at once.
    /// </summary>
    private static bool TryGetByKey<TValue>(FrozenDictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>> lookup, string system, string code, out TValue value)
    {
        const int StackChars = 256;
        var length = system.Length + 1 + code.Length;
        char[]? rented = null;
        Span<char> key = length <= StackChars ? stackalloc char[StackChars] : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(length));
        try
        {
            system.CopyTo(key);
            key[system.Length] = '|';
            code.CopyTo(key[(system.Length + 1)..]);
            return lookup.TryGetValue(key[..length], out value!);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }

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
