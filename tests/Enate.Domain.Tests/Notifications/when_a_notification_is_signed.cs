using Enate.Domain.Notifications;

namespace Enate.Domain.Tests.Notifications;

public sealed class when_a_notification_is_signed
{
    [Fact]
    public void the_signature_is_the_standard_webhooks_test_vector()
    {
        // The example in the Standard Webhooks specification (and every reference library's tests).
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            Notification.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""));
    }

    [Fact]
    public void a_new_secret_is_32_random_bytes_written_as_standard_webhooks_writes_them()
    {
        var secret = Notification.NewSecret();
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret[6..]).Length);
        Assert.NotEqual(secret, Notification.NewSecret());
    }

    [Fact]
    public void one_happening_makes_one_id_and_each_endpoint_one_delivery()
    {
        var run = Guid.NewGuid().ToString();
        Assert.Equal(Notify.IdFor(NotificationTypes.RunFailed, run), Notify.IdFor(NotificationTypes.RunFailed, run));
        Assert.NotEqual(Notify.IdFor(NotificationTypes.RunFailed, run), Notify.IdFor(NotificationTypes.RunDeadLettered, run));
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(Notification.DeliveryIdOf("msg_1", a), Notification.DeliveryIdOf("msg_1", a));
        Assert.NotEqual(Notification.DeliveryIdOf("msg_1", a), Notification.DeliveryIdOf("msg_1", b));
    }

    [Fact]
    public void the_retry_schedule_is_svix_s()
    {
        Assert.Equal(["00:00:00", "00:00:05", "00:05:00", "00:30:00", "02:00:00", "05:00:00", "10:00:00", "10:00:00"],
            Notification.Schedule.Select(d => d.ToString()));
    }
}
