using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CdsHooks.Benchmarks;

/// <summary>
/// <c>tokens --alg ES384|RS384 --count N[,N...] --out FILE[,FILE...] --issuer ISS --aud URL --jwks-out FILE [--lifetime-s 900]</c>:
/// the client JWTs an EHR would send, one per hook call, for the load benchmark's authenticated scenarios. One key
/// pair is generated in memory (P-384 or RSA 2048) and never stored; its public half goes to <c>--jwks-out</c> as a
/// JWKS (kid, use sig, alg) for <c>Security__Issuers__0__Jwks</c>. Each <c>--out</c> file gets its <c>--count</c>
/// compact JWS tokens, one per line: header <c>{alg, typ: JWT, kid}</c>, claims <c>iss</c>, <c>aud</c> (the exact
/// URL called), <c>iat</c> = now, <c>exp</c> = now + lifetime, and a <c>jti</c> that no other token shares, so
/// every token is good for exactly one call (the service refuses a replayed <c>jti</c>). Several files from one
/// key keep the warm-up's and the measured runs' tokens apart. Signing runs on every core.
/// </summary>
public static class TokenGenerator
{
    /// <summary>The service refuses tokens whose <c>exp</c> is further ahead than Security:MaxTokenLifetimeSeconds (default 3600).</summary>
    private const int MaxLifetimeSeconds = 3600;

    public static int Run(string[] args)
    {
        var o = CommandLine.Parse(args);
        var alg = o.Required("alg");
        var counts = o.Required("count").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        var outputs = o.Required("out").Split(',');
        var issuer = o.Required("issuer");
        var audience = o.Required("aud");
        var jwksOut = o.Required("jwks-out");
        var lifetime = int.Parse(o.GetValueOrDefault("lifetime-s", "900"), CultureInfo.InvariantCulture);
        if (counts.Length != outputs.Length) throw new ArgumentException($"--count has {counts.Length} values but --out names {outputs.Length} files.");
        if (counts.Any(c => c < 0)) throw new ArgumentException("--count values must not be negative.");
        if (lifetime is < 60 or > MaxLifetimeSeconds)
        {
            throw new ArgumentException($"--lifetime-s {lifetime} is outside 60..{MaxLifetimeSeconds} (the service's default Security:MaxTokenLifetimeSeconds).");
        }

        using var key = JwsKey.Create(alg, $"bench-{alg.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        File.WriteAllText(jwksOut, key.PublicJwks());

        var now = DateTimeOffset.UtcNow;
        var claims = new Claims(issuer, audience, now.ToUnixTimeSeconds(), (now + TimeSpan.FromSeconds(lifetime)).ToUnixTimeSeconds());
        var header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = alg,
            ["typ"] = "JWT",
            ["kid"] = key.Kid,
        }));

        var total = counts.Sum();
        var tokens = new byte[total][];
        var clock = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        // Each worker signs with its own copy of the key: the platform's key objects are not documented as thread-safe.
        Parallel.ForEach(
            Partitioner.Create(0, total, Math.Max(1, Math.Min(1024, total / (4 * Environment.ProcessorCount) + 1))),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new TokenWriter(key.Clone(), header, claims),
            (range, _, writer) =>
            {
                for (var i = range.Item1; i < range.Item2; i++) tokens[i] = writer.Next();
                return writer;
            },
            writer => writer.Dispose());
        var elapsed = clock.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        var first = 0;
        for (var f = 0; f < outputs.Length; f++)
        {
            using var file = new FileStream(outputs[f], FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            for (var i = first; i < first + counts[f]; i++)
            {
                file.Write(tokens[i]);
                file.WriteByte((byte)'\n');
            }
            first += counts[f];
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tokens: {total} {alg} tokens (kid {key.Kid}, exp in {lifetime} s) signed in {elapsed.TotalSeconds:0.0} s on {Environment.ProcessorCount} cores, {cpu.TotalMicroseconds / Math.Max(1, total):0} µs CPU each"));
        return 0;
    }

    private sealed record Claims(string Issuer, string Audience, long IssuedAt, long Expires);

    /// <summary>One worker's signer and buffers; builds one token per call.</summary>
    private sealed class TokenWriter(JwsKey key, string header, Claims claims) : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _payload = new(256);
        private readonly byte[] _signature = new byte[key.SignatureSize];

        public byte[] Next()
        {
            _payload.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_payload))
            {
                json.WriteStartObject();
                json.WriteString("iss", claims.Issuer);
                json.WriteString("aud", claims.Audience);
                json.WriteNumber("iat", claims.IssuedAt);
                json.WriteNumber("exp", claims.Expires);
                // Random and 122 bits wide, as an EHR's would be: unique across every file and run.
                json.WriteString("jti", Guid.NewGuid().ToString("D"));
                json.WriteEndObject();
            }
            var signingInput = Encoding.ASCII.GetBytes(header + "." + Base64Url.EncodeToString(_payload.WrittenSpan));
            var written = key.Sign(signingInput, _signature);
            var signature = Base64Url.EncodeToString(_signature.AsSpan(0, written));
            var token = new byte[signingInput.Length + 1 + signature.Length];
            signingInput.CopyTo(token, 0);
            token[signingInput.Length] = (byte)'.';
            Encoding.ASCII.GetBytes(signature, token.AsSpan(signingInput.Length + 1));
            return token;
        }

        public void Dispose() => key.Dispose();
    }
}

/// <summary>An EHR's signing key: ES384 on P-384 or RS384 on RSA 2048, with the signature forms JWS requires.
/// Exactly one of <paramref name="ec"/> and <paramref name="rsa"/> is set.</summary>
internal sealed class JwsKey(string kid, string alg, ECDsa? ec, RSA? rsa) : IDisposable
{
    private readonly ECDsa? _ec = ec;
    private readonly RSA? _rsa = rsa;

    public string Kid => kid;
    public string Alg => alg;

    /// <summary>R||S for ES384 (2 × 48 bytes), the modulus length for RS384.</summary>
    public int SignatureSize => _ec is not null ? 96 : _rsa!.KeySize / 8;

    public static JwsKey Create(string alg, string kid) => alg switch
    {
        "ES384" => new JwsKey(kid, alg, ECDsa.Create(ECCurve.NamedCurves.nistP384), null),
        "RS384" => new JwsKey(kid, alg, null, RSA.Create(2048)),
        _ => throw new ArgumentException($"--alg {alg}: choose ES384 or RS384."),
    };

    /// <summary>An independent copy of the private key, for another thread.</summary>
    public JwsKey Clone()
    {
        if (_ec is not null)
        {
            var ec = ECDsa.Create();
            ec.ImportParameters(_ec.ExportParameters(includePrivateParameters: true));
            return new JwsKey(Kid, Alg, ec, null);
        }
        var rsa = RSA.Create();
        rsa.ImportParameters(_rsa!.ExportParameters(includePrivateParameters: true));
        return new JwsKey(Kid, Alg, null, rsa);
    }

    /// <summary>Signs with SHA-384: ECDSA in the IEEE P1363 fixed-width R||S form (JWS, RFC 7518 §3.4), RSA with PKCS#1 v1.5.</summary>
    public int Sign(ReadOnlySpan<byte> data, Span<byte> signature)
    {
        var ok = _ec is not null
            ? _ec.TrySignData(data, signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out var written)
            : _rsa!.TrySignData(data, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1, out written);
        return ok ? written : throw new CryptographicException("The signature did not fit its buffer.");
    }

    /// <summary>The public key as a one-key JWKS.</summary>
    public string PublicJwks()
    {
        Dictionary<string, string> jwk;
        if (_ec is not null)
        {
            var p = _ec.ExportParameters(includePrivateParameters: false);
            jwk = new() { ["kty"] = "EC", ["crv"] = "P-384", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y) };
        }
        else
        {
            var p = _rsa!.ExportParameters(includePrivateParameters: false);
            jwk = new() { ["kty"] = "RSA", ["n"] = Base64Url.EncodeToString(p.Modulus), ["e"] = Base64Url.EncodeToString(p.Exponent) };
        }
        jwk["kid"] = Kid;
        jwk["use"] = "sig";
        jwk["alg"] = Alg;
        return JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, string>[]> { ["keys"] = [jwk] });
    }

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }
}
