using Enate.Api.Platform;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApi();

var app = builder.Build();
app.UseApi();
return await app.RunJasperFxCommands(args);

public partial class Program;
