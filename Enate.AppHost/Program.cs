using Microsoft.Extensions.Configuration;
using Enate.AppHost.Postgres;

var builder = DistributedApplication.CreateBuilder(args);

var database = builder.AddEnateDatabase();
var bootstrapApiKey = builder.AddParameter("bootstrap-api-key", secret: true);

// The simulators stand in for Enate and the partners' systems; the platform calls them over real HTTP.
var simulators = builder.AddProject<Projects.Enate_Simulators>("simulators")
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Ports:Simulators", 5090), name: "public", isProxied: false)
    .WithHttpHealthCheck("/health", endpointName: "public");

// The API and the Workers both wait for the database: they create their schema objects on start.
var api = builder.AddProject<Projects.Enate_Api>("api", launchProfileName: null)
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Ports:Api", 5080), name: "http", isProxied: false)
    .WithReference(database, PostgresModes.DatabaseName)
    .WaitFor(database)
    .WithReference(simulators)
    .WaitFor(simulators)
    .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
    .WithEnvironment("Enate__Bootstrap__ApiKey", bootstrapApiKey)
    .WithHttpHealthCheck("/health");
// Hook and subscriber URLs handed to partners and to Enate name this address.
api.WithEnvironment("Enate__PublicUrl", api.GetEndpoint("http"));

builder.AddProject<Projects.Enate_Workers>("workers", launchProfileName: null)
    .WithHttpEndpoint(name: "http")
    .WithReplicas(builder.Configuration.GetValue("Workers:Replicas", 1))
    .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
    .WithReference(database, PostgresModes.DatabaseName)
    .WaitFor(database)
    // Workers call the simulators as partners; the API must have built the schema first.
    .WithReference(simulators)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
