using Enate.Console.Platform;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddConsole();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapConsole();
app.Run();
