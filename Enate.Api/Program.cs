using Enate.Api.Platform;
using Enate.Domain.Platform;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApi();

var app = builder.Build();
app.UseApi();
return await PlatformProcess.RunAsync(app, args);

public partial class Program;
