using System.Globalization;

namespace CdsHooks.Storage;

/// <summary>
/// Lock-outs applied per card kind: the cards the lock-out after override held back (<c>card_withheld</c> rows with
/// reason <c>lock-out</c>; reminders held back as repeats in one encounter are not lock-outs and are not counted).
/// With the lock-out off (<c>lockOutEnabled</c> false, <c>Analytics:LockOut:Enabled=false</c>) nothing is
/// recorded: the answer is null, and the report and dashboard say "not recorded" rather than a zero.
/// </summary>
public sealed class LockOutCountQuery(CdsDatabase database, bool lockOutEnabled) : ILockOutStatistics
{
    private const string Count = """
        SELECT card_kind, COUNT(*)
        FROM card_withheld
        WHERE reason = @reason AND withheld_at >= @from AND withheld_at < @to{0}
        GROUP BY card_kind
        """;

    public async Task<IReadOnlyDictionary<string, long>?> CountByCardKindAsync(DateTimeOffset from, DateTimeOffset to, string? serviceId, CancellationToken cancellationToken)
    {
        if (!lockOutEnabled) return null;
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = CdsDatabase.Command(connection, null, string.Format(CultureInfo.InvariantCulture, Count, serviceId is null ? "" : " AND service_id = @service"))
            .With("reason", WithheldCard.Code(WithholdReason.LockOut))
            .With("from", StoredTime.ToMicros(from))
            .With("to", StoredTime.ToMicros(to));
        if (serviceId is not null) command.With("service", serviceId);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }
        return counts;
    }
}
