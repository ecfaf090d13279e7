using Enate.Simulators.Common;
using Enate.Simulators.Crm;
using Enate.Simulators.Enate;
using Enate.Simulators.Erp;
using Enate.Simulators.Hr;
using Enate.Simulators.Payroll;
using Enate.Simulators.Portal;

namespace Enate.Simulators;

/// Builds the simulators' web app. Tests start it on a real port (`--urls http://127.0.0.1:0`) and read the bound address.
public static class SimulatorApp
{
    public static WebApplication Build(string[] args) => Build(args, _ => { });

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure(builder);

        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SimulatedApps>();
        builder.Services.AddSingleton(builder.Configuration.GetSection("Simulators:Webhooks").Get<WebhookOptions>() ?? new WebhookOptions());
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddSingleton<StandardWebhooks>();
        builder.Services.AddHttpClient(WebhookSender.ClientName);
        builder.Services.AddHttpClient(EnateActions.ClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.AddEnate();
        builder.Services.AddSingleton<CrmState>();
        builder.Services.AddSingleton<HrState>();
        builder.Services.AddSingleton<ErpState>();
        builder.Services.AddSingleton<PayrollState>();
        builder.Services.AddSingleton<PortalState>();

        var app = builder.Build();
        // Each app's state registers its reset hook when it is created: create them all now.
        _ = app.Services.GetRequiredService<EnateState>();
        _ = app.Services.GetRequiredService<CrmState>();
        _ = app.Services.GetRequiredService<HrState>();
        _ = app.Services.GetRequiredService<ErpState>();
        _ = app.Services.GetRequiredService<PayrollState>();
        _ = app.Services.GetRequiredService<PortalState>();

        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<SimulatorMiddleware>();

        app.MapGet("/", () => Results.Ok(new { name = "Enate simulators", simulates = SimulatedApps.Names, docs = "docs/simulators.md" }));
        app.MapControlEndpoints();
        app.MapEnate();
        CrmState.Map(app);
        HrState.Map(app);
        ErpState.Map(app);
        PayrollState.Map(app);
        PortalState.Map(app);
        return app;
    }
}
