using CdsHooks.Api.Analytics;
using CdsHooks.Api.Dashboard;
using CdsHooks.Api.Discovery;
using CdsHooks.Api.Explain;
using CdsHooks.Api.Feedback;
using CdsHooks.Api.Operations;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Api.Telemetry;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Storage;

var builder = WebApplication.CreateBuilder(args);

// JSON: source-generated CDS Hooks and FHIR metadata; nulls and empty lists omitted.
builder.Services.AddCdsJson();
// RFC 9457 problem details for every error the spec does not shape itself.
builder.Services.AddProblemDetails();
// Clinical knowledge (validated at boot), rules, service catalog, prefetch and FHIR data gathering.
builder.Services.AddRlsCds(builder.Configuration);
// Storage: SQLite file by default, PostgreSQL when configured (schema migrated at start-up); Redis for cross-node state.
builder.Services.AddCdsStorage(builder.Configuration);
// Card log (queued, batched, off the hook's response path) and the card analytics endpoint.
builder.Services.AddCardAnalytics(builder.Configuration);
// The card dashboard at /dashboard: operator key exchanged for a session cookie (Dashboard:*, Analytics:ApiKey).
builder.Services.AddDashboard(builder.Configuration);
// Security: who may call (client JWT and analytics key schemes, route policies), CORS, body and rate limits, headers
// (Security:*, Cors:*, Limits:*; validated at boot).
builder.Services.AddCdsSecurity(builder.Configuration, builder.Environment);
// Traces and metrics over OpenTelemetry, exported with OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (off otherwise).
builder.Services.AddCdsTelemetry(builder.Configuration);
// OpenAPI document at /openapi/v1.json.
builder.Services.AddOpenApi();

var app = builder.Build();

// Fail at boot, not at the first request, when the knowledge file is broken.
app.Services.GetRequiredService<RlsKnowledge>();

// `demo-data`: fill an empty store with synthetic card-log and feedback history for the dashboard, then exit.
// (Waited for synchronously: an `await` here would make the entry point async, which the test host factory handles differently.)
if (DemoData.IsCommand(args)) return DemoData.RunAsync(app.Services, args).GetAwaiter().GetResult();

app.UseExceptionHandler();
app.UseStatusCodePages();
// Security headers, body cap, CORS, each route's authorization policy (the fallback keeps /cds-services and /analytics closed), rate limit.
app.UseCdsSecurity();

app.MapDiscovery();
app.MapCdsServices();
app.MapFeedback();
app.MapCardAnalytics();
app.MapExplain();
app.MapDashboard();
app.MapHealth();
app.MapOpenApi();

app.Run();
return 0;

/// <summary>Entry point, visible to the integration tests' host factory.</summary>
public partial class Program;
