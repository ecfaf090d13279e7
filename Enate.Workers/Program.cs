using Enate.Workers.Platform;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddWorkers();

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunJasperFxCommands(args);
