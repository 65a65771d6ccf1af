using CdsHooks.Protocol;
using CdsHooks.Storage;

namespace CdsHooks.Api.Analytics;

/// <summary>What the card log records of a card the service built (the rows themselves are <see cref="CardLogRecord"/>).</summary>
public static class CardLogRecords
{
    /// <summary>Cards without a topic would not say what kind they are; every card this service builds has one.</summary>
    public const string UnknownKind = "unspecified";

    public static string KindOf(Card card) => card.Source.Topic?.Code ?? UnknownKind;

    /// <summary>The keys of the suggestions that have a uuid (the ones <see cref="IssuedCard.SuggestionUuids"/> lists), in order.</summary>
    public static IReadOnlyList<string?> SuggestionKeysOf(IReadOnlyList<Suggestion>? suggestions) =>
        [.. (suggestions ?? []).Where(s => s.Uuid is not null).Select(s => s.Key)];
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
