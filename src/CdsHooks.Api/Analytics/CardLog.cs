using CdsHooks.Protocol;

namespace CdsHooks.Api.Analytics;

/// <summary>A row of the card log: a card shown (<see cref="IssuedCard"/>) or held back (<see cref="WithheldCard"/>).</summary>
public abstract record CardLogRecord(string CardUuid, string ServiceId, string CardKind)
{
    /// <summary>Cards without a topic would not say what kind they are; every card this service builds has one.</summary>
    public const string UnknownKind = "unspecified";

    public static string KindOf(Card card) => card.Source.Topic?.Code ?? UnknownKind;
}

/// <summary>
/// One card as it was shown: what feedback is joined to. No patient or user identifier: only, while the lock-out is on,
/// keyed hashes of the patient and encounter (<see cref="SubjectKeys"/>) so a later call can tell "same patient".
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
    /// Each suggestion's stable key (<see cref="Suggestion.Key"/>), in the order of <see cref="SuggestionUuids"/>; null
    /// where the card builder set none. Empty when not recorded: analytics then name a suggestion by its position.
    /// </summary>
    public IReadOnlyList<string?> SuggestionKeys { get; init; } = [];

    /// <summary>The keys of the suggestions that have a uuid (the ones <see cref="SuggestionUuids"/> lists), in order.</summary>
    public static IReadOnlyList<string?> SuggestionKeysOf(IReadOnlyList<Suggestion>? suggestions) =>
        [.. (suggestions ?? []).Where(s => s.Uuid is not null).Select(s => s.Key)];
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

/// <summary>
/// Keyed hashes (HMAC-SHA256, per issuer/tenant) standing for the patient and encounter of a hook call; both null when the
/// lock-out is off, and then nothing about the patient is stored.
/// </summary>
public readonly record struct SubjectKeys(string? Patient, string? Encounter);

/// <summary>What one hook call's rules produced: the cards shown and those held back, for the hashed subject.</summary>
public sealed record CardSelection(List<Card> Shown, IReadOnlyList<(Card Card, WithholdReason Reason)> Withheld, SubjectKeys Subject)
{
    public static CardSelection AllShown(List<Card> cards, SubjectKeys subject = default) => new(cards, [], subject);
}

/// <summary>Records every card a service call answered with (and every card it held back), off the hook's response path.</summary>
public interface ICardLog
{
    /// <summary>Queues the selection's cards for the log. Never waits: see the README's card-log guarantee.</summary>
    void Record(string serviceId, string hookInstance, CardSelection selection);
}
