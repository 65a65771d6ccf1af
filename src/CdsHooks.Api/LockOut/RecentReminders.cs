using System.Collections.Concurrent;

namespace CdsHooks.Api.LockOut;

/// <summary>
/// The reminders this node showed lately, per encounter (or per patient, for calls without one). The card log is written
/// a few milliseconds after the answer (and, while its store is down, only after it returns), so the next selection on
/// this node could otherwise miss what the previous one showed. Bounded: two generations of at most
/// <paramref name="capacity"/>/2 keys each; an older entry is forgotten early and the store answers for it.
/// </summary>
public sealed class RecentReminders(int capacity)
{
    public const int DefaultCapacity = 20_000;

    private readonly Lock _rotation = new();
    private ConcurrentDictionary<string, Shown[]> _current = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Shown[]> _previous = new(StringComparer.Ordinal);

    /// <summary>Whether a reminder of <paramref name="kind"/> was shown under <paramref name="key"/> since then, by another hook call.</summary>
    public bool WasShown(string key, string kind, string hookInstance, DateTimeOffset since) =>
        Contains(_current, key, kind, hookInstance, since) || Contains(_previous, key, kind, hookInstance, since);

    public void Remember(string key, string kind, string hookInstance, DateTimeOffset at)
    {
        var current = _current;
        var shown = new Shown(kind, hookInstance, at);
        current.AddOrUpdate(key, static (_, s) => [s], static (_, list, s) => [.. list.Where(x => x.Kind != s.Kind), s], shown);
        if (current.Count <= capacity / 2) return;
        lock (_rotation)
        {
            if (!ReferenceEquals(current, _current)) return;
            _previous = current;
            _current = new ConcurrentDictionary<string, Shown[]>(StringComparer.Ordinal);
        }
    }

    private static bool Contains(ConcurrentDictionary<string, Shown[]> generation, string key, string kind, string hookInstance, DateTimeOffset since)
    {
        if (!generation.TryGetValue(key, out var list)) return false;
        foreach (var s in list)
        {
            if (s.Kind == kind && s.At >= since && s.HookInstance != hookInstance) return true;
        }
        return false;
    }

    private readonly record struct Shown(string Kind, string HookInstance, DateTimeOffset At);
}
