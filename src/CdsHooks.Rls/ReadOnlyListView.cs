namespace CdsHooks.Rls;

internal static class ReadOnlyListView
{
    /// <summary>
    /// <c>foreach</c> over an <see cref="IReadOnlyList{T}"/> by index: a plain foreach over the interface boxes the
    /// list's enumerator, one allocation per loop, and the rules loop over the snapshot's lists many times per call.
    /// </summary>
    public static Items<T> Each<T>(this IReadOnlyList<T> list) => new(list);

    public readonly struct Items<T>(IReadOnlyList<T> list)
    {
        public Enumerator<T> GetEnumerator() => new(list);
    }

    public struct Enumerator<T>(IReadOnlyList<T> list)
    {
        private int _index = -1;

        public readonly T Current => list[_index];

        public bool MoveNext() => ++_index < list.Count;
    }
}
