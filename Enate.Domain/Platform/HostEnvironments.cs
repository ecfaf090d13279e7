using Microsoft.Extensions.Hosting;

namespace Enate.Domain.Platform;

public static class HostEnvironments
{
    /// Development or Testing: the only environments where the platform starts with a published default key, its key
    /// ring in the clear or its own address taken from a request.
    public static bool IsLocal(this IHostEnvironment environment) => environment.IsDevelopment() || environment.IsEnvironment("Testing");
}
