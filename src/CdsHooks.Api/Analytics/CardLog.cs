using CdsHooks.Protocol;

namespace CdsHooks.Api.Analytics;

/// <summary>One card as it was shown: what feedback is joined to. No patient or user identifier, not even hashed.</summary>
public sealed record IssuedCard(string CardUuid, string ServiceId, string CardKind, string HookInstance, DateTimeOffset IssuedAt, IReadOnlyList<string> SuggestionUuids)
{
    /// <summary>Cards without a topic would not say what kind they are; every card this service builds has one.</summary>
    public const string UnknownKind = "unspecified";
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
