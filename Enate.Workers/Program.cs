using Enate.Workers.Platform;
using Enate.Domain.Platform;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddWorkers();

var app = builder.Build();
app.MapDefaultEndpoints();
return await PlatformProcess.RunAsync(app, args);
