using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Enate.AppHost.Dashboard;
using Enate.AppHost.Postgres;

var builder = DistributedApplication.CreateBuilder(args);

var database = builder.AddEnateDatabase();
var bootstrapApiKey = builder.AddParameter("bootstrap-api-key", secret: true);
// The platform operator's key, which creates and disables tenants: random per developer, kept in user secrets.
var operatorApiKey = builder.AddParameter("operator-api-key",
    new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);
// The key audit checkpoints are signed with must not live in the database it vouches for: a random one per
// developer, kept in this project's user secrets; in production, an environment secret (docs/audit.md).
var auditSigningKey = builder.AddParameter("audit-signing-key",
    new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);
// The key that seals the Data Protection key ring, which encrypts connection secrets: like the signing key, never in
// the database whose secrets it protects (docs/security.md).
var keyEncryptionKey = builder.AddParameter("key-encryption-key",
    new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);
// The witness of the signed checkpoints: a folder beside the local database's, outside PostgreSQL's reach.
var witness = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data", "witness"));

// The simulators stand in for Enate and the partners' systems; the platform calls them over real HTTP.
var simulators = builder.AddProject<Projects.Enate_Simulators>("simulators")
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Ports:Simulators", 5090), name: "public", isProxied: false)
    .WithHttpHealthCheck("/health", endpointName: "public");

// The API and the Workers both wait for the database: they create their schema objects on start.
// A killed or crashed API or Workers process is started again, as a production supervisor would.
builder.Services.AddHostedService<Enate.AppHost.Watchdog.Watchdog>();

// One API listens on its port itself; several (`--Api:Replicas=N`) sit behind the orchestrator's proxy on that port,
// which spreads connections over them as a load balancer would.
var apiReplicas = builder.Configuration.GetValue("Api:Replicas", 1);
var api = builder.AddProject<Projects.Enate_Api>("api", launchProfileName: null)
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Ports:Api", 5080), name: "http", isProxied: apiReplicas > 1)
    .WithReplicas(apiReplicas)
    .WithReference(database, PostgresModes.DatabaseName)
    .WaitFor(database)
    .WithReference(simulators)
    .WaitFor(simulators)
    .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
    .WithEnvironment("Enate__Bootstrap__ApiKey", bootstrapApiKey)
    .WithEnvironment("Enate__Operator__ApiKey", operatorApiKey)
    .WithEnvironment("Enate__Audit__SigningKey", auditSigningKey)
    .WithEnvironment("Enate__DataProtection__KeyEncryptionKey", keyEncryptionKey)
    .WithEnvironment("Enate__Audit__Witness__Folder", witness)
    .WithTenancy(builder.Configuration)
    .WithHttpHealthCheck("/health")
    .WithUrlForEndpoint("http", url => url.DisplayText = "API")
    .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = endpoint.Url + "/scalar/v1", DisplayText = "API reference" })
    .WithOperatorCommands(bootstrapApiKey);
// Hook and subscriber URLs handed to partners and to Enate name this address.
api.WithEnvironment("Enate__PublicUrl", api.GetEndpoint("http"));

builder.AddProject<Projects.Enate_Workers>("workers", launchProfileName: null)
    .WithHttpEndpoint(name: "http")
    .WithReplicas(builder.Configuration.GetValue("Workers:Replicas", 1))
    .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
    .WithReference(database, PostgresModes.DatabaseName)
    .WaitFor(database)
    .WithEnvironment("Enate__Audit__SigningKey", auditSigningKey)
    .WithEnvironment("Enate__DataProtection__KeyEncryptionKey", keyEncryptionKey)
    .WithEnvironment("Enate__Audit__Witness__Folder", witness)
    .WithTenancy(builder.Configuration)
    // Workers call the simulators as partners; the API must have built the schema first.
    .WithReference(simulators)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

// The console: people sign in with an API key and see, re-run and prove history through the API, never the database.
builder.AddProject<Projects.Enate_Console>("console", launchProfileName: null)
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Ports:Console", 5070), name: "http", isProxied: false)
    .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
    .WithReference(api)
    .WaitFor(api)
    .WithUrlForEndpoint("http", url => url.DisplayText = "Console")
    .WithHttpHealthCheck("/health");

builder.Build().Run();
