using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;

namespace Enate.Api.Security;

public static class SecurityConfiguration
{
    /// Every route needs a key unless it says otherwise ([AllowAnonymous] on webhooks, which are signed
    /// instead, and on the schema, OpenAPI and health). A policy per scope; `admin` satisfies all of them.
    public static WebApplicationBuilder AddApiSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyCache>();
        builder.Services.AddSingleton<OperatorKey>();
        builder.Services.AddAuthentication(ApiKeyAuthentication.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthentication>(
                ApiKeyAuthentication.SchemeName, _ => { });
        builder.Services.AddAuthorization(options =>
        {
            options.FallbackPolicy = new AuthorizationPolicyBuilder(ApiKeyAuthentication.SchemeName)
                .RequireAuthenticatedUser().Build();
            foreach (var scope in Scopes.All)
            {
                options.AddPolicy(scope, policy => policy
                    .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName)
                    .RequireAuthenticatedUser()
                    .RequireAssertion(context => context.User.HasClaim(EnateClaims.Scope, scope)
                                                 || context.User.HasClaim(EnateClaims.Scope, Scopes.Admin)));
            }
            // The operator's scope is its own: no tenant's admin key holds it.
            options.AddPolicy(Scopes.Operator, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(EnateClaims.Scope, Scopes.Operator));
        });
        builder.Services.AddHostedService<BootstrapKey>();
        return builder;
    }
}
