using System.Text.Json.Serialization;
using CdsHooks.Storage;

namespace CdsHooks.Api.Analytics;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CardAnalyticsReport))]
public sealed partial class AnalyticsJsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CardReport))]
public sealed partial class CardReportJsonContext : JsonSerializerContext;
