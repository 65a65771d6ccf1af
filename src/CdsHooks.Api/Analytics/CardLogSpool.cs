using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using CdsHooks.Storage;
using Microsoft.Win32.SafeHandles;

namespace CdsHooks.Api.Analytics;

/// <summary>
/// The card log's local, durable overflow: an append-only file holding the cards the store could not take, in the
/// order they were issued, until they are replayed into the store. Each append is one write and one fsync (a batch of
/// records: batched fsync); each record carries its length and CRC-32, so a record torn by a crash is found at start-up
/// and cut off. The file never grows past its bound: records that do not fit are refused (the caller counts them as
/// dropped). Once every record is replayed the file is truncated back to its header. An exclusive lock on
/// <c>&lt;path&gt;.lock</c> (advisory on Unix) keeps two processes from appending to one spool, while the spool itself
/// stays readable for inspection. Not thread-safe: the writer loop is its only user.
/// </summary>
public sealed class CardLogSpool : IDisposable
{
    /// <summary>File header: format and version. A file that does not start with it is not a spool of this build.</summary>
    private static readonly byte[] Magic = "CDSSPL01"u8.ToArray();
    private const int RecordHeader = 8; // int32 payload length, uint32 CRC-32 of the payload
    private const int MaxPayload = 1 << 20; // a card record is a few hundred bytes: anything larger is corruption
    private const byte IssuedType = 1;
    private const byte WithheldType = 2;

    private readonly FileStream _lock;
    private readonly FileStream _file;
    private readonly SafeFileHandle _handle;
    private readonly long _maxBytes;
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _writer;
    private long _read;
    private long _end;
    private int _pending;

    private CardLogSpool(FileStream @lock, FileStream file, long maxBytes)
    {
        _lock = @lock;
        _file = file;
        _handle = file.SafeFileHandle;
        _maxBytes = maxBytes;
        _writer = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
    }

    public string Path => _file.Name;

    /// <summary>Records appended and not yet replayed.</summary>
    public int PendingRecords => Volatile.Read(ref _pending);

    /// <summary>The file's size in bytes (replayed records included until it is truncated).</summary>
    public long SizeBytes => Volatile.Read(ref _end);

    public bool IsEmpty => _read >= _end;

    /// <summary>Where the next append goes: a flush waiting for the records before it is done once replay passes this.</summary>
    public long EndOffset => _end;

    /// <summary>Where replay continues.</summary>
    public long ReadOffset => _read;

    /// <summary>
    /// Opens (or creates) the spool at <paramref name="path"/>, keeps every whole record already in it and cuts off a torn
    /// or corrupt tail (how many bytes is returned in <paramref name="discardedBytes"/>).
    /// </summary>
    public static CardLogSpool Open(string path, long maxBytes, out long discardedBytes)
    {
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
        var exclusive = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        FileStream file;
        try
        {
            // bufferSize 0: every append goes straight to the file (positional writes), nothing sits in a managed buffer.
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0, FileOptions.None);
        }
        catch
        {
            exclusive.Dispose();
            throw;
        }
        var spool = new CardLogSpool(exclusive, file, maxBytes);
        try
        {
            discardedBytes = spool.Recover();
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    private long Recover()
    {
        var length = RandomAccess.GetLength(_handle);
        if (length == 0)
        {
            RandomAccess.Write(_handle, Magic, 0);
            RandomAccess.FlushToDisk(_handle);
            _read = _end = Magic.Length;
            return 0;
        }
        var header = new byte[Magic.Length];
        if (length < Magic.Length || RandomAccess.Read(_handle, header, 0) != Magic.Length || !header.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{_file.Name} is not a card-log spool of this version (Analytics:CardLogSpoolPath).");
        }
        _read = Magic.Length;
        // Scan every record: the end is the last whole one.
        _pending = ReadRecords(_read, length, int.MaxValue, out _end, into: null);
        var discarded = length - _end;
        if (discarded > 0)
        {
            _file.SetLength(_end);
            RandomAccess.FlushToDisk(_handle);
        }
        return discarded;
    }

    /// <summary>
    /// Appends records from <paramref name="records"/> starting at <paramref name="start"/> in one write and one fsync;
    /// returns how many fit under the bound (the rest are the caller's to count as dropped). An I/O error (disk full)
    /// appends nothing and is thrown.
    /// </summary>
    public int Append(IReadOnlyList<CardLogRecord> records, int start = 0)
    {
        _buffer.SetLength(0);
        var appended = 0;
        for (var i = start; i < records.Count; i++)
        {
            var recordStart = _buffer.Position;
            _writer.Write(0L); // header placeholder
            WritePayload(records[i]);
            _writer.Flush();
            var payloadLength = (int)(_buffer.Position - recordStart - RecordHeader);
            if (_end + _buffer.Position > _maxBytes)
            {
                _buffer.SetLength(recordStart);
                break;
            }
            var bytes = _buffer.GetBuffer().AsSpan((int)recordStart);
            BinaryPrimitives.WriteInt32LittleEndian(bytes, payloadLength);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], Crc32.HashToUInt32(bytes.Slice(RecordHeader, payloadLength)));
            appended++;
        }
        if (appended == 0) return 0;
        try
        {
            RandomAccess.Write(_handle, _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length), _end);
            RandomAccess.FlushToDisk(_handle);
        }
        catch
        {
            // Part of the write may have landed: cut it off so the file ends at a whole record.
            try { _file.SetLength(_end); } catch (IOException) { }
            throw;
        }
        Volatile.Write(ref _end, _end + _buffer.Length);
        Interlocked.Add(ref _pending, appended);
        return appended;
    }

    /// <summary>
    /// Up to <paramref name="max"/> records from where replay stands; <paramref name="next"/> is the offset after them and
    /// <paramref name="consumed"/> how many records that passes (a record whose payload cannot be read is passed over).
    /// </summary>
    public List<CardLogRecord> Read(int max, out long next, out int consumed)
    {
        var records = new List<CardLogRecord>(Math.Min(max, 1024));
        consumed = ReadRecords(_read, _end, max, out next, records);
        return records;
    }

    /// <summary>The records before <paramref name="next"/> (from <see cref="Read"/>) are stored: replay continues there.</summary>
    public void Advance(long next, int count)
    {
        _read = next;
        Interlocked.Add(ref _pending, -count);
        if (_read < _end) return;
        // Everything replayed: start the file afresh, so it holds only what the store has not got.
        _file.SetLength(Magic.Length);
        RandomAccess.FlushToDisk(_handle);
        _read = Magic.Length;
        Volatile.Write(ref _end, Magic.Length);
        Volatile.Write(ref _pending, 0);
    }

    /// <summary>Whole records with a matching CRC from <paramref name="from"/>; decoded into <paramref name="into"/> when given.</summary>
    private int ReadRecords(long from, long to, int max, out long next, List<CardLogRecord>? into)
    {
        next = from;
        var count = 0;
        Span<byte> header = stackalloc byte[RecordHeader];
        byte[] payload = [];
        while (count < max && next + RecordHeader <= to)
        {
            if (RandomAccess.Read(_handle, header, next) != RecordHeader) break;
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (length is <= 0 or > MaxPayload || next + RecordHeader + length > to) break;
            if (payload.Length < length) payload = new byte[Math.Max(length, 4096)];
            if (RandomAccess.Read(_handle, payload.AsSpan(0, length), next + RecordHeader) != length) break;
            if (Crc32.HashToUInt32(payload.AsSpan(0, length)) != crc) break;
            if (into is not null && ReadPayload(payload, length) is { } record) into.Add(record);
            next += RecordHeader + length;
            count++;
        }
        return count;
    }

    private void WritePayload(CardLogRecord record)
    {
        switch (record)
        {
            case IssuedCard card:
                _writer.Write(IssuedType);
                WriteCommon(card);
                _writer.Write(card.HookInstance);
                _writer.Write(StoredTime.ToMicros(card.IssuedAt));
                _writer.Write(card.SuggestionUuids.Count);
                foreach (var uuid in card.SuggestionUuids) _writer.Write(uuid);
                WriteOptional(card.PatientKey);
                WriteOptional(card.EncounterKey);
                _writer.Write(card.AboutDraftOrder);
                _writer.Write(card.SuggestionKeys.Count);
                foreach (var key in card.SuggestionKeys) WriteOptional(key);
                break;
            case WithheldCard withheld:
                _writer.Write(WithheldType);
                WriteCommon(withheld);
                _writer.Write((byte)withheld.Reason);
                _writer.Write(StoredTime.ToMicros(withheld.WithheldAt));
                break;
            default:
                throw new ArgumentException($"Unknown card-log record {record.GetType().Name}", nameof(record));
        }
    }

    private void WriteCommon(CardLogRecord record)
    {
        _writer.Write(record.CardUuid);
        _writer.Write(record.ServiceId);
        _writer.Write(record.CardKind);
    }

    private void WriteOptional(string? value)
    {
        _writer.Write(value is not null);
        if (value is not null) _writer.Write(value);
    }

    private static CardLogRecord? ReadPayload(byte[] payload, int length)
    {
        using var reader = new BinaryReader(new MemoryStream(payload, 0, length, writable: false), Encoding.UTF8);
        try
        {
            var type = reader.ReadByte();
            var (uuid, service, kind) = (reader.ReadString(), reader.ReadString(), reader.ReadString());
            if (type == WithheldType)
            {
                var reason = (WithholdReason)reader.ReadByte();
                return new WithheldCard(uuid, service, kind, reason, StoredTime.FromMicros(reader.ReadInt64()));
            }
            if (type != IssuedType) return null;
            var hookInstance = reader.ReadString();
            var issuedAt = StoredTime.FromMicros(reader.ReadInt64());
            var suggestions = new string[reader.ReadInt32()];
            for (var i = 0; i < suggestions.Length; i++) suggestions[i] = reader.ReadString();
            var patient = reader.ReadBoolean() ? reader.ReadString() : null;
            var encounter = reader.ReadBoolean() ? reader.ReadString() : null;
            var aboutDraftOrder = reader.ReadBoolean();
            var keys = new string?[reader.ReadInt32()];
            for (var i = 0; i < keys.Length; i++) keys[i] = reader.ReadBoolean() ? reader.ReadString() : null;
            return new IssuedCard(uuid, service, kind, hookInstance, issuedAt, suggestions, patient, encounter, aboutDraftOrder) { SuggestionKeys = keys };
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
        _file.Dispose();
        _lock.Dispose();
    }
}
