var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/", () => Results.Ok(new { name = "Enate simulators", simulates = new[] { "enate", "crm", "hr", "erp", "payroll", "portal" } }));
app.Run();

public partial class Program;
