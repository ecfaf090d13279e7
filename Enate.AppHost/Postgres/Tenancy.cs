using Microsoft.Extensions.Configuration;

namespace Enate.AppHost.Postgres;

public static class Tenancy
{
    /// Hands the app host's `Enate:Tenancy` settings (tenants placed on databases of their own, docs/operations.md) to a
    /// process, so `dotnet run --project Enate.AppHost -- --Enate:Tenancy:Databases:eu="Host=…" --Enate:Tenancy:Tenants:acme=eu`
    /// places them for the API and the Workers alike.
    public static IResourceBuilder<T> WithTenancy<T>(this IResourceBuilder<T> resource, IConfiguration configuration)
        where T : IResourceWithEnvironment
    {
        foreach (var (key, value) in configuration.GetSection("Enate:Tenancy").AsEnumerable())
            if (value is not null) resource.WithEnvironment(key.Replace(":", "__"), value);
        return resource;
    }
}
