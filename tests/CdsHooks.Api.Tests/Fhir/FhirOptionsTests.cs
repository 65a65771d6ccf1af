namespace CdsHooks.Api.Tests.Fhir;

/// <summary>A bad Fhir option stops the service at boot with a message naming the key.</summary>
public sealed class FhirOptionsTests
{
    private sealed class ConfiguredHost(params (string Key, string Value)[] settings) : CdsServiceHost
    {
        protected override IEnumerable<KeyValuePair<string, string?>> Settings => settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value));
    }

    [Theory]
    [InlineData("Fhir:AllowedServers:0", "http://ehr.example.org/fhir", "Fhir:AllowedServers:0: must be an https URL")]
    [InlineData("Fhir:AllowedServers:0", "not a url", "Fhir:AllowedServers:0: not an absolute URL")]
    [InlineData("Fhir:AllowedServers:0", "https://user:pw@ehr.example.org/fhir", "Fhir:AllowedServers:0: must not contain user info")]
    [InlineData("Fhir:RequestDeadline", "00:00:00.010", "Fhir:RequestDeadline")]
    [InlineData("Fhir:AttemptTimeout", "00:05:00", "Fhir:AttemptTimeout")]
    [InlineData("Fhir:MaxRetries", "50", "Fhir:MaxRetries")]
    [InlineData("Fhir:MaxPages", "0", "Fhir:MaxPages")]
    [InlineData("Fhir:MaxResponseBytes", "10", "Fhir:MaxResponseBytes")]
    [InlineData("Fhir:CircuitBreaker:FailureRatio", "1.5", "Fhir:CircuitBreaker:FailureRatio")]
    [InlineData("Fhir:CircuitBreaker:MinimumThroughput", "1", "Fhir:CircuitBreaker:MinimumThroughput")]
    [InlineData("Fhir:CircuitBreaker:BreakDuration", "00:00:00.100", "Fhir:CircuitBreaker:BreakDuration")]
    public void BadFhirOption_StopsServiceAtBoot_NamingTheKey(string key, string value, string message)
    {
        using var host = new ConfiguredHost((key, value));

        var error = Assert.ThrowsAny<Exception>(() => host.Client);

        Assert.Contains(message, error.ToString());
    }

    [Fact]
    public void HttpServer_WithAllowInsecureHttp_Starts()
    {
        using var host = new ConfiguredHost(("Fhir:AllowedServers:0", "http://127.0.0.1:9/fhir"), ("Fhir:AllowInsecureHttp", "true"));

        Assert.NotNull(host.Client);
    }
}
