using Enate.Simulators;

var app = SimulatorApp.Build(args, builder => builder.AddServiceDefaults());
app.MapDefaultEndpoints();
app.Run();
