using CdsHooks.Fhir;

namespace CdsHooks.Api.Services;

/// <summary>What one hook call writes to the log beyond its own lines: unread draft orders.</summary>
internal static partial class HookCallLog
{
    /// <summary>About twice as long as any FHIR resource type name (the longest R4 ones have 33 letters).</summary>
    private const int MaxTypeNameLength = 64;

    /// <summary>
    /// Says once per call which draft orders were not considered because the service does not read their type
    /// (NutritionOrder, DeviceRequest, VisionPrescription, ...): by type only, never an id or any other content.
    /// </summary>
    public static void LogUnreadDraftOrders(ILogger logger, Bundle? draftOrders)
    {
        if (!logger.IsEnabled(LogLevel.Information)) return;
        List<string>? types = null;
        var count = 0;
        foreach (var entry in draftOrders?.Entry ?? [])
        {
            if (entry.Resource is not UnknownResource unread) continue;
            count++;
            // The name comes from the caller: one not shaped like a FHIR type name could be any text, so it is not written.
            var type = IsTypeName(unread.ResourceType) ? unread.ResourceType : "(not a FHIR type name)";
            types ??= [];
            if (!types.Contains(type)) types.Add(type);
        }
        if (types is not null) LogUnread(logger, count, string.Join(", ", types));
    }

    private static bool IsTypeName(string name)
    {
        if (name.Length is 0 or > MaxTypeNameLength || !char.IsAsciiLetterUpper(name[0])) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetter(c)) return false;
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} draft order(s) not considered: this service does not read {DraftTypes}")]
    private static partial void LogUnread(ILogger logger, int count, string draftTypes);
}
