using CdsHooks.Api.Fhir;
using CdsHooks.Api.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>A bad Fhir option stops the host at boot (ValidateOnStart) with a message naming the key.</summary>
public sealed class FhirOptionsTests
{
    /// <summary>A plain host with the service's Fhir registration: starting it runs the start-up validation, without a web server's start-up races.</summary>
    private static IHost Host(string environment, params (string Key, string Value)[] settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddFhirFallback(builder.Configuration);
        return builder.Build();
    }

    [Theory]
    [InlineData("Fhir:AllowedServers:0", "http://ehr.example.org/fhir", "Fhir:AllowedServers:0: must be an https URL")]
    [InlineData("Fhir:AllowedServers:0", "not a url", "Fhir:AllowedServers:0: not an absolute URL")]
    [InlineData("Fhir:AllowedServers:0", "https://user:pw@ehr.example.org/fhir", "Fhir:AllowedServers:0: must not contain user info")]
    [InlineData("Fhir:AllowedServers:0", "https://ehr.example.org/fhir?tenant=1", "Fhir:AllowedServers:0: must be a base URL")]
    [InlineData("Fhir:RequestDeadline", "00:00:00.010", "Fhir:RequestDeadline")]
    [InlineData("Fhir:AttemptTimeout", "00:05:00", "Fhir:AttemptTimeout")]
    [InlineData("Fhir:MaxRetries", "50", "Fhir:MaxRetries")]
    [InlineData("Fhir:MaxPages", "0", "Fhir:MaxPages")]
    [InlineData("Fhir:MaxResponseBytes", "10", "Fhir:MaxResponseBytes")]
    [InlineData("Fhir:CircuitBreaker:FailureRatio", "1.5", "Fhir:CircuitBreaker:FailureRatio")]
    [InlineData("Fhir:CircuitBreaker:MinimumThroughput", "1", "Fhir:CircuitBreaker:MinimumThroughput")]
    [InlineData("Fhir:CircuitBreaker:BreakDuration", "00:00:00.100", "Fhir:CircuitBreaker:BreakDuration")]
    public void BadFhirOption_StopsHostAtBoot_NamingTheKey(string key, string value, string message)
    {
        using var host = Host("Production", (key, value));

        var error = Assert.Throws<OptionsValidationException>(() => host.Start());

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void HttpServer_Development_Starts()
    {
        using var host = Host("Development", ("Fhir:AllowedServers:0", "http://127.0.0.1:8090/fhir"));
        host.Start();
        Assert.True(host.Services.GetRequiredService<IOptions<FhirOptions>>().Value.AllowInsecureHttp);
    }

    [Fact]
    public void HttpServer_OutsideDevelopmentWithAllowInsecureHttp_Starts()
    {
        using var host = Host("Production", ("Fhir:AllowedServers:0", "http://127.0.0.1:8090/fhir"), ("Fhir:AllowInsecureHttp", "true"));
        host.Start();
        Assert.False(host.Services.GetRequiredService<FhirServerAllowlist>().IsEmpty);
    }
}
