namespace CdsHooks.Rls.Knowledge;

/// <summary>
/// Every number the rules compare against, in canonical units (ng/mL, %, mg/L, g/dL, mg/dL, mL/min/1.73 m²),
/// all from the knowledge file's <c>thresholds</c> (the JSON name is given for each). None is written in code.
/// </summary>
public sealed record ClinicalThresholds
{
    /// <summary><c>adultAgeYears</c>: adult iron thresholds and doses from this age.</summary>
    public required int AdultAgeYears { get; init; }
    /// <summary><c>ironStudiesWindowDays</c>: how recent ferritin and TSAT must be.</summary>
    public required int IronStudiesWindowDays { get; init; }
    /// <summary><c>ferritinIronTherapyMaxNgPerMl</c>: ferritin at or below this calls for iron (AASM 2024).</summary>
    public required decimal FerritinIronTherapyMax { get; init; }
    /// <summary><c>tsatIronTherapyBelowPercent</c>: TSAT below this calls for iron (AASM 2024).</summary>
    public required decimal TsatIronTherapyBelow { get; init; }
    /// <summary><c>ferritinIvIronMaxNgPerMl</c>: initial IV iron only up to this ferritin (IRLSSG 2018).</summary>
    public required decimal FerritinIvIronMax { get; init; }
    /// <summary><c>tsatIvIronBelowPercent</c>: IV iron only below this TSAT (IRLSSG 2018).</summary>
    public required decimal TsatIvIronBelow { get; init; }
    /// <summary><c>ferritinIronHardStopNgPerMl</c>: no iron of any kind at or above this ferritin.</summary>
    public required decimal FerritinHardStop { get; init; }
    /// <summary><c>crpRaisedAboveMgPerL</c>: above this CRP a normal ferritin may hide deficiency.</summary>
    public required decimal CrpRaisedAbove { get; init; }
    /// <summary><c>hemoglobinLowBelowGPerDl</c>: shown as anaemia in the detail.</summary>
    public required decimal HemoglobinLowBelow { get; init; }
    /// <summary><c>ivIronLookbackDays</c>: IV iron given within this many days makes ferritin uninterpretable and a repeat course premature.</summary>
    public required int IvIronLookbackDays { get; init; }
    /// <summary><c>phosphateWindowDays</c>: how recent the phosphate that clears ferric carboxymaltose must be.</summary>
    public required int PhosphateWindowDays { get; init; }
    /// <summary><c>phosphateLowBelowMgPerDl</c>: hypophosphatemia below this.</summary>
    public required decimal PhosphateLowBelow { get; init; }
    /// <summary><c>pregnancySecondTrimesterFromWeeks</c>.</summary>
    public required decimal SecondTrimesterFromWeeks { get; init; }
    /// <summary><c>pregnancyThirdTrimesterFromWeeks</c>.</summary>
    public required decimal ThirdTrimesterFromWeeks { get; init; }
    /// <summary><c>pregnancyTermWeeks</c>: gestational age at the estimated delivery date.</summary>
    public required decimal TermWeeks { get; init; }
    /// <summary><c>pregnancyOverAfterWeeks</c>: a pregnancy whose gestational age would now be past this has ended.</summary>
    public required decimal PregnancyOverAfterWeeks { get; init; }
    /// <summary><c>pregnancyStatusWindowDays</c>: a "pregnant" status older than this is not current evidence.</summary>
    public required int PregnancyStatusWindowDays { get; init; }
    /// <summary><c>pregnancyPossibleFromAgeYears</c> / <c>pregnancyPossibleToAgeYears</c>: when missing pregnancy data blocks IV iron.</summary>
    public required int PregnancyPossibleFromAge { get; init; }
    public required int PregnancyPossibleToAge { get; init; }
    /// <summary><c>egfrKidneyFailureBelow</c>: eGFR below this is kidney failure (KDIGO G5).</summary>
    public required decimal EgfrKidneyFailureBelow { get; init; }
    /// <summary><c>labFutureToleranceHours</c>: a result dated further ahead than this is skipped, not taken as newest.</summary>
    public required int LabFutureToleranceHours { get; init; }
    /// <summary><c>earliestPlausibleBirthYear</c>: a birth date before this year is not believed.</summary>
    public required int EarliestPlausibleBirthYear { get; init; }
    /// <summary><c>pediatricFerritinBelowNgPerMl</c>: children get oral iron below this ferritin.</summary>
    public required decimal PediatricFerritinBelow { get; init; }
    /// <summary><c>ironRetestAfterOralDays</c> / <c>ironRetestAfterIvDays</c>: when to re-test after a course the labs predate.</summary>
    public required int IronRetestAfterOralDays { get; init; }
    public required int IronRetestAfterIvDays { get; init; }
    /// <summary><c>tsatOverloadWorkupAtLeastPercent</c>: an iron overload work-up from this TSAT.</summary>
    public required decimal TsatOverloadWorkupAtLeast { get; init; }
    /// <summary><c>idaFerritinBelowNgPerMl</c>: with anaemia, iron-deficiency anaemia below this ferritin (cause prompt).</summary>
    public required decimal IdaFerritinBelow { get; init; }
    /// <summary><c>hemoglobinLowMenBelowGPerDl</c>: anaemia in men below this (women: <see cref="HemoglobinLowBelow"/>).</summary>
    public required decimal HemoglobinLowMenBelow { get; init; }
    /// <summary><c>postMenopausalFromAgeYears</c>: women from this age count as post-menopausal for the cause prompt.</summary>
    public required int PostMenopausalFromAge { get; init; }
}
