using System.Collections;
using CdsHooks.Fhir;

namespace CdsHooks.Api.Services;

/// <summary>What one hook call writes to the log beyond its own lines: the scope that names it, and unread draft orders.</summary>
internal static partial class HookCallLog
{
    /// <summary>About twice as long as any FHIR resource type name (the longest R4 ones have 33 letters).</summary>
    private const int MaxTypeNameLength = 64;

    /// <summary>The scope every line of the call is written in: its hookInstance (the correlation id) and service.</summary>
    public static IDisposable? BeginHookCallScope(this ILogger logger, string hookInstance, string serviceId) =>
        logger.BeginScope(new HookCallScope(hookInstance, serviceId));

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

    /// <summary>
    /// The scope's state: key/value pairs for structured formatters (the JSON console writes them as properties),
    /// and a <see cref="ToString"/> for the ones that print a scope as text (the simple console in Development), which
    /// would otherwise print a dictionary's type name.
    /// </summary>
    private sealed class HookCallScope(string hookInstance, string serviceId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 2;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("hookInstance", hookInstance),
            1 => new("serviceId", serviceId),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"hookInstance:{hookInstance} serviceId:{serviceId}";
    }
}
