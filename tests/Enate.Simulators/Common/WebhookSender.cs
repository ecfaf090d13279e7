namespace Enate.Simulators.Common;

/// Delivery schedule, from configuration `Simulators:Webhooks:*`.
public sealed class WebhookOptions
{
    public int Retries { get; set; } = 3;
    public int RetryDelayMs { get; set; } = 1000;
    public int TimeoutSeconds { get; set; } = 10;
}

/// Posts webhook bodies in the background: a failed or non-2xx attempt is retried `Retries` times,
/// `RetryDelayMs` apart; every attempt is recorded on the delivery. A reset of the app stops pending retries.
public sealed class WebhookSender(IHttpClientFactory clients, WebhookOptions options, TimeProvider clock, ILogger<WebhookSender> logger)
{
    public const string ClientName = "webhooks";

    public void Send(SimulatedApp app, WebhookDelivery delivery, IReadOnlyDictionary<string, string> headers)
    {
        app.Deliveries.Add(delivery);
        var lifetime = app.Lifetime;
        _ = Task.Run(() => DeliverAsync(delivery, headers, lifetime), CancellationToken.None);
    }

    private async Task DeliverAsync(WebhookDelivery delivery, IReadOnlyDictionary<string, string> headers, CancellationToken lifetime)
    {
        var attempts = 1 + Math.Max(0, options.Retries);
        var client = clients.CreateClient(ClientName);
        for (var number = 1; number <= attempts && !lifetime.IsCancellationRequested; number++)
        {
            int? status = null;
            string? error = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
                {
                    Content = new StringContent(delivery.Body, System.Text.Encoding.UTF8, "application/json"),
                };
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
                timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
                using var response = await client.SendAsync(request, timeout.Token);
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                if (lifetime.IsCancellationRequested) return;
                error = e.Message;
            }
            var delivered = status is >= 200 and < 300;
            delivery.Record(new DeliveryAttempt(number, clock.GetUtcNow(), status, error), delivered, final: number == attempts);
            if (delivered) return;
            logger.LogInformation("Webhook {Event} to {Url}: attempt {Attempt} failed ({Status})", delivery.Event, delivery.Url, number, status?.ToString() ?? error);
            if (number < attempts)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(options.RetryDelayMs), lifetime);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
