extern alias workers;

using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;
using Scheduler = workers::Enate.Workers.Schedules.Scheduler;

namespace Enate.Api.Tests.Triggers;

/// Schedule triggers. Rounds are run here at chosen instants, by two schedulers on the Workers' services as two
/// replicas would; the occurrences are put half a day from now, where the Workers' own scheduler does not reach them.
public sealed class when_a_schedule_falls_due(AppFixture app) : PartnerTest(app)
{
    /// A daily cron whose next occurrence is about twelve hours away, and that occurrence.
    private static (string Cron, DateTimeOffset First) HalfADayAway()
    {
        var at = DateTimeOffset.UtcNow.AddHours(12);
        var first = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute, 0, TimeSpan.Zero);
        return ($"{at.Minute} {at.Hour} * * *", first);
    }

    private Task PutScheduled(string key, string cron, string missed = MissedPolicies.Skip, string timeZone = "UTC") =>
        Api.PutRecipe(key, new
        {
            name = "Nightly sync",
            trigger = new { type = "schedule", cron, timeZone, missed },
            steps = new object[]
            {
                new { id = "sync", type = "http", connection = "crm", method = "POST", path = "/sync", body = new Dictionary<string, object> { ["at"] = "{{ input.schedule.occurrence }}" } },
            },
        });

    private Scheduler Replica()
    {
        var services = App.Workers.Services;
        return new Scheduler(services.GetRequiredService<IDocumentStore>(), services.GetRequiredService<Npgsql.NpgsqlDataSource>(),
            services.GetRequiredService<OutboxedSessionFactory>(),
            services.GetRequiredService<IWolverineRuntime>(), TimeProvider.System, services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(),
            NullLogger<Scheduler>.Instance);
    }

    /// A round at `at` that this replica takes: the Workers' own scheduler may be in one for a moment (every second), and
    /// a round it holds is skipped here, so the round is asked for again until it is taken.
    private static async Task<DateTimeOffset?> Fire(Scheduler replica, DateTimeOffset at) =>
        (await Eventually.Get(() => replica.TryRoundAsync(at, default), round => round.Taken)).Next;

    /// The schedule part of a run's input.
    private async Task<JsonElement> Occurrence(Guid runId) =>
        (await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}/events")).GetProperty("items")[0].GetProperty("data").GetProperty("input")
        .GetProperty("schedule");

    private async Task<List<JsonElement>> Runs(string key) =>
        (await Api.GetAsJson<JsonElement>($"/api/v1/runs?recipe={key}")).GetProperty("items").EnumerateArray().ToList();

    [Fact]
    public async Task an_occurrence_starts_one_run_however_many_replicas_find_it_due()
    {
        var (cron, first) = HalfADayAway();
        await PutScheduled("nightly", cron);
        var (one, two) = (Replica(), Replica());

        // Rounds at once: one replica takes the round (the others find it taken and skip it).
        var rounds = await Eventually.Get(() => Task.WhenAll(Enumerable.Range(0, 4).Select(i => (i % 2 == 0 ? one : two).TryRoundAsync(first.AddSeconds(1), default))),
            all => all.Any(round => round.Taken));
        Assert.All(rounds, round => Assert.Equal(round.Taken ? first.AddDays(1) : (DateTimeOffset?)null, round.Next));
        await Fire(one, first.AddSeconds(30));
        // A replica that did not see the mark (it lost its lock's connection mid-round, say) fires the occurrence again:
        // the occurrence's delivery key refuses the second run.
        await using (var session = App.Store.LightweightSession("demo"))
        {
            session.Delete<ScheduleMark>("nightly");
            await session.SaveChangesAsync();
        }
        await Fire(two, first.AddSeconds(31));

        var run = Assert.Single(await Runs("nightly"));
        var done = await Api.WaitForRun(run.GetProperty("id").GetGuid(), RunStatus.Succeeded);
        Assert.Equal("schedule", done.Trigger);
        var received = Assert.Single(Partner.Requests);
        Assert.Equal("/sync", received.Path);
        Assert.Contains(first.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss"), received.Body);

        // The firing is an inbound request like any trigger's; its body is the run's input, with when and what it ran.
        var inbound = Assert.Single((await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=accepted")).GetProperty("items").EnumerateArray());
        Assert.Equal("schedule", inbound.GetProperty("trigger").GetString());
        Assert.Equal(done.Id, inbound.GetProperty("runIds")[0].GetGuid());
        var input = (await Api.GetAsJson<JsonElement>($"/api/v1/runs/{done.Id}/events")).GetProperty("items")[0].GetProperty("data").GetProperty("input");
        Assert.Equal(first, input.GetProperty("schedule").GetProperty("occurrence").GetDateTimeOffset());
        Assert.Equal(first.AddSeconds(1), input.GetProperty("schedule").GetProperty("firedAt").GetDateTimeOffset());
        Assert.Equal(0, input.GetProperty("schedule").GetProperty("missed").GetInt32());
        Assert.Equal(1, input.GetProperty("recipe").GetProperty("version").GetInt32());

        // The next day's occurrence is another run.
        await Fire(two, first.AddDays(1).AddSeconds(1));
        Assert.Equal(2, (await Runs("nightly")).Count);
    }

    [Fact]
    public async Task occurrences_found_late_are_skipped_or_run_once_as_the_recipe_says()
    {
        var (cron, first) = HalfADayAway();
        await PutScheduled("skips", cron, MissedPolicies.Skip);
        await PutScheduled("catches-up", cron, MissedPolicies.RunOnce);
        var scheduler = Replica();

        // The Workers were away for five days: found ten minutes after the fifth occurrence.
        await Fire(scheduler, first.AddDays(4).AddMinutes(10));
        Assert.Empty(await Runs("skips"));
        var caughtUp = Assert.Single(await Runs("catches-up")).GetProperty("id").GetGuid();
        await Api.WaitForRun(caughtUp, RunStatus.Succeeded);
        var input = (await Api.GetAsJson<JsonElement>($"/api/v1/runs/{caughtUp}/events")).GetProperty("items")[0].GetProperty("data").GetProperty("input");
        Assert.Equal(first.AddDays(4), input.GetProperty("schedule").GetProperty("occurrence").GetDateTimeOffset());
        Assert.Equal(4, input.GetProperty("schedule").GetProperty("missed").GetInt32());

        // Back on time, both run the next occurrence, and nothing earlier counts as missed again.
        await Fire(scheduler, first.AddDays(5).AddSeconds(2));
        Assert.Single(await Runs("skips"));
        Assert.Equal(2, (await Runs("catches-up")).Count);
    }

    [Fact]
    public async Task a_deactivated_schedule_fires_nothing_and_a_changed_cron_counts_from_its_change()
    {
        var (cron, first) = HalfADayAway();
        await PutScheduled("paused", cron);
        await Api.Scenario(s => s.Post.Url("/api/v1/recipes/paused/deactivate"));
        await Fire(Replica(), first.AddSeconds(1));
        Assert.Empty(await Runs("paused"));

        await Api.Scenario(s => s.Post.Url("/api/v1/recipes/paused/activate"));
        // A new cron an hour later: the old occurrence no longer exists, the new one fires with version 2.
        var later = first.AddHours(1);
        await PutScheduled("paused", $"{later.Minute} {later.Hour} * * *");
        await Fire(Replica(), first.AddSeconds(1));
        Assert.Empty(await Runs("paused"));
        await Fire(Replica(), later.AddSeconds(1));
        var run = await Api.WaitForRun(Assert.Single(await Runs("paused")).GetProperty("id").GetGuid(), RunStatus.Succeeded);
        Assert.Equal(2, run.RecipeVersion);
    }

    [Fact]
    public async Task an_every_second_schedule_runs_by_itself_until_it_is_deactivated()
    {
        await PutScheduled("every-second", "* * * * * *", timeZone: "Europe/London");
        var runs = await Eventually.Get(() => Runs("every-second"), found => found.Count >= 2, TimeSpan.FromSeconds(30));
        await Api.Scenario(s => s.Post.Url("/api/v1/recipes/every-second/deactivate"));
        var occurrences = new List<DateTimeOffset>();
        foreach (var run in runs)
        {
            var id = run.GetProperty("id").GetGuid();
            await Api.WaitForRun(id, RunStatus.Succeeded);
            occurrences.Add((await Occurrence(id)).GetProperty("occurrence").GetDateTimeOffset());
        }
        // Each run is its own second: the Workers' scheduler fires each occurrence once.
        Assert.Equal(occurrences.Count, occurrences.Distinct().Count());
        Assert.All(occurrences, o => Assert.Equal(0, o.Millisecond));
    }

    [Theory]
    [InlineData("""{"type":"schedule"}""", "$.trigger.cron")]
    [InlineData("""{"type":"schedule","cron":"every day"}""", "$.trigger.cron")]
    [InlineData("""{"type":"schedule","cron":"61 * * * *"}""", "$.trigger.cron")]
    [InlineData("""{"type":"schedule","cron":"0 9 * * *","timeZone":"Mars/Olympus"}""", "$.trigger.timeZone")]
    [InlineData("""{"type":"schedule","cron":"0 9 * * *","missed":"always"}""", "$.trigger.missed")]
    [InlineData("""{"type":"api","cron":"0 9 * * *"}""", "$.trigger.cron")]
    public async Task a_schedule_that_cannot_run_is_refused_with_its_path(string trigger, string path)
    {
        var body = $$"""{"name":"bad","trigger":{{trigger}},"steps":[{"id":"a","type":"transform","select":"input"}]}""";
        var result = await Api.Scenario(s =>
        {
            s.Put.Text(body).ToUrl("/api/v1/recipes/bad-schedule");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
        });
        var problem = result.ReadAsJson<JsonElement>();
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == path);
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/bad-schedule");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }
}
