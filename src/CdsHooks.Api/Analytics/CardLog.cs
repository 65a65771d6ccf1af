using CdsHooks.Protocol;

namespace CdsHooks.Api.Analytics;

/// <summary>One card as it was shown: what feedback is joined to. No patient or user identifier, not even hashed.</summary>
public sealed record IssuedCard(string CardUuid, string ServiceId, string CardKind, string HookInstance, DateTimeOffset IssuedAt, IReadOnlyList<string> SuggestionUuids)
{
    /// <summary>Cards without a topic would not say what kind they are; every card this service builds has one.</summary>
    public const string UnknownKind = "unspecified";

    /// <summary>
    /// Each suggestion's stable key (<see cref="Suggestion.Key"/>), in the order of <see cref="SuggestionUuids"/>; null
    /// where the card builder set none. Empty when not recorded: analytics then name a suggestion by its position.
    /// </summary>
    public IReadOnlyList<string?> SuggestionKeys { get; init; } = [];

    /// <summary>The keys of the suggestions that have a uuid (the ones <see cref="SuggestionUuids"/> lists), in order.</summary>
    public static IReadOnlyList<string?> SuggestionKeysOf(IReadOnlyList<Suggestion>? suggestions) =>
        [.. (suggestions ?? []).Where(s => s.Uuid is not null).Select(s => s.Key)];
}

/// <summary>Records every card a service call answered with, off the hook's response path.</summary>
public interface ICardLog
{
    /// <summary>
    /// Queues <paramref name="cards"/> for the log. Returns at once unless the queue is full, in which case it waits for
    /// room (back-pressure rather than loss) until <paramref name="cancellationToken"/> fires.
    /// </summary>
    ValueTask RecordAsync(string serviceId, string hookInstance, IReadOnlyList<Card> cards, CancellationToken cancellationToken);
}
