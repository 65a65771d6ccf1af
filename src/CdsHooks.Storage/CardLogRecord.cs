namespace CdsHooks.Storage;

/// <summary>A row of the card log: a card shown (<see cref="IssuedCard"/>) or held back (<see cref="WithheldCard"/>).</summary>
public abstract record CardLogRecord(string CardUuid, string ServiceId, string CardKind);

/// <summary>
/// One card as it was shown: what feedback is joined to. No patient or user identifier: only, while the lock-out is on,
/// keyed hashes of the patient and encounter so a later call can tell "same patient".
/// </summary>
public sealed record IssuedCard(
    string CardUuid,
    string ServiceId,
    string CardKind,
    string HookInstance,
    DateTimeOffset IssuedAt,
    IReadOnlyList<string> SuggestionUuids,
    string? PatientKey = null,
    string? EncounterKey = null,
    bool AboutDraftOrder = false) : CardLogRecord(CardUuid, ServiceId, CardKind)
{
    /// <summary>
    /// Each suggestion's stable key (the protocol model's <c>Suggestion.Key</c>, never sent), in the order of
    /// <see cref="SuggestionUuids"/>; null where the card builder set none. Empty when not recorded: analytics then name a suggestion by its position.
    /// </summary>
    public IReadOnlyList<string?> SuggestionKeys { get; init; } = [];
}

/// <summary>Why a card the rules produced was not shown.</summary>
public enum WithholdReason
{
    /// <summary>A card of this kind was overridden for this patient within the kind's lock-out period.</summary>
    LockOut,

    /// <summary>A reminder of this kind was already shown for this patient in this encounter.</summary>
    Repeat,
}

/// <summary>A card the rules produced but the service held back: counted (analytics <c>lockOuts</c>), never shown.</summary>
public sealed record WithheldCard(string CardUuid, string ServiceId, string CardKind, WithholdReason Reason, DateTimeOffset WithheldAt)
    : CardLogRecord(CardUuid, ServiceId, CardKind)
{
    /// <summary>The stored form of <see cref="Reason"/>.</summary>
    public string ReasonCode => Code(Reason);

    public static string Code(WithholdReason reason) => reason == WithholdReason.LockOut ? "lock-out" : "repeat";
}
