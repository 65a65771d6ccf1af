using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// A signing key generated in the test (never stored), as an EHR would hold it: ES384 on P-384 or RS384 on RSA 2048.
/// Signs with the platform's crypto directly, so the service's validator is checked against an independent signer.
/// </summary>
public sealed class TestSigningKey : IDisposable
{
    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private TestSigningKey(string kid, string alg, ECDsa? ec, RSA? rsa)
    {
        Kid = kid;
        Alg = alg;
        _ec = ec;
        _rsa = rsa;
    }

    public string Kid { get; }
    public string Alg { get; }

    public static TestSigningKey Es384(string kid) => new(kid, "ES384", ECDsa.Create(ECCurve.NamedCurves.nistP384), null);

    public static TestSigningKey Rs384(string kid) => new(kid, "RS384", null, RSA.Create(2048));

    /// <summary>The public key as a JWK.</summary>
    public JsonObject PublicJwk()
    {
        if (_ec is not null)
        {
            var p = _ec.ExportParameters(false);
            return new JsonObject { ["kty"] = "EC", ["crv"] = "P-384", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!), ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg };
        }
        var r = _rsa!.ExportParameters(false);
        return new JsonObject { ["kty"] = "RSA", ["n"] = B64(r.Modulus!), ["e"] = B64(r.Exponent!), ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg };
    }

    /// <summary>The public key in PEM form: what an attacker would use as an HMAC secret.</summary>
    public string PublicPem() => _ec is not null ? _ec.ExportSubjectPublicKeyInfoPem() : _rsa!.ExportSubjectPublicKeyInfoPem();

    public static string Jwks(params TestSigningKey[] keys) => new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.PublicJwk())]) }.ToJsonString();

    public byte[] Sign(byte[] data) => _ec is not null
        ? _ec.SignData(data, HashAlgorithmName.SHA384)
        : _rsa!.SignData(data, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1);

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }

    internal static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}

/// <summary>A client JWT under construction: a valid CDS Hooks token by default, every part open to tampering.</summary>
public sealed class TestToken
{
    public TestToken(TestSigningKey key, string issuer, string audience, DateTimeOffset now)
    {
        Key = key;
        Header = new JsonObject { ["alg"] = key.Alg, ["typ"] = "JWT", ["kid"] = key.Kid };
        Payload = new JsonObject
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["exp"] = (now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString(),
        };
    }

    public TestSigningKey Key { get; }
    public JsonObject Header { get; }
    public JsonObject Payload { get; }

    public TestToken With(string claim, JsonNode? value)
    {
        Payload[claim] = value;
        return this;
    }

    public TestToken WithHeader(string name, JsonNode? value)
    {
        if (value is null) Header.Remove(name);
        else Header[name] = value;
        return this;
    }

    /// <summary>header.payload.signature, signed with <see cref="Key"/>.</summary>
    public string Sign()
    {
        var signingInput = SigningInput();
        return signingInput + "." + TestSigningKey.B64(Key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>An HMAC-SHA256 signature keyed with <paramref name="secret"/> (header <c>alg</c> HS256).</summary>
    public string SignHs256(string secret)
    {
        Header["alg"] = "HS256";
        var signingInput = SigningInput();
        return signingInput + "." + TestSigningKey.B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>An unsecured JWT (<c>alg</c> none, empty signature).</summary>
    public string Unsigned()
    {
        Header["alg"] = "none";
        return SigningInput() + ".";
    }

    private string SigningInput() =>
        TestSigningKey.B64(Encoding.UTF8.GetBytes(Header.ToJsonString())) + "." + TestSigningKey.B64(Encoding.UTF8.GetBytes(Payload.ToJsonString()));
}
