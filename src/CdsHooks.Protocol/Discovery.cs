namespace CdsHooks.Protocol;

/// <summary>The body of <c>GET /cds-services</c>.</summary>
public sealed class DiscoveryResponse
{
    public List<CdsServiceDescriptor> Services { get; set; } = [];
}

public sealed class CdsServiceDescriptor
{
    public required string Hook { get; set; }
    public required string Id { get; set; }
    public string? Title { get; set; }
    public required string Description { get; set; }
    /// <summary>Prefetch key -> FHIR query template with <c>{{context.*}}</c> tokens.</summary>
    public Dictionary<string, string>? Prefetch { get; set; }
    public string? UsageRequirements { get; set; }
}
