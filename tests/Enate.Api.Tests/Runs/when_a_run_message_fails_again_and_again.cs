extern alias workers;

using System.Net.Sockets;
using Enate.Domain.Runs;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;
using Wolverine.Runtime;
using workers::Enate.Workers.Runs;

namespace Enate.Api.Tests.Runs;

/// What the Workers do with a run message whose handling failed, attempt after attempt, as their failure rules decide
/// it (an outage of hours cannot be waited out in a test; the rules are what decide it).
public sealed class when_a_run_message_fails_again_and_again(AppFixture app) : AppTest(app)
{
    [Fact]
    public void a_run_waits_for_a_database_that_is_away_however_long_it_takes()
    {
        var away = new Marten.Exceptions.MartenCommandException(null!, new NpgsqlException("Exception while connecting", new SocketException(111)));

        Assert.Equal(["Retry Now", "Retry Now", "Retry Now", "Schedule Retry in 60 seconds", "Schedule Retry in 300 seconds"],
            Enumerable.Range(1, 5).Select(attempt => NextFor(away, attempt)).Select(Kind));
        // Hours later (attempt 100 is a day on), still waiting, every 15 minutes.
        Assert.All(new[] { 6, 7, 20, 100 }, attempt => Assert.Equal("Schedule Retry in 900 seconds", NextFor(away, attempt)));
        Assert.Equal("Schedule Retry in 900 seconds", NextFor(new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03"), 100));
    }

    [Fact]
    public void another_failure_of_the_database_is_tried_for_a_while_and_a_refused_value_not_at_all()
    {
        var other = new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505");
        Assert.Equal("Schedule Retry in 900 seconds", NextFor(other, 6));
        Assert.Equal("dead letters, run failed", NextFor(other, 7));
        var refused = new PostgresException("value too long for type character varying(10)", "ERROR", "ERROR", "22001");
        Assert.Equal("dead letters, run failed", NextFor(refused, 1));
    }

    /// The driver out of step on one connection (decision 85) fails nothing of the run's own: it is tried again, on
    /// another connection.
    [Fact]
    public void a_driver_out_of_step_is_tried_again()
    {
        var outOfStep = new Marten.Exceptions.MartenCommandException(new NpgsqlCommand("select 1"),
            new Exception("Received unexpected backend message DataRow. Please file a bug."));
        Assert.StartsWith("Retry Now", NextFor(outOfStep, 1));
        Assert.Equal("Schedule Retry in 900 seconds", NextFor(outOfStep, 6));
        Assert.Equal("dead letters, run failed", NextFor(new Exception("Received something else"), 1));
    }

    [Fact]
    public void a_race_on_the_runs_stream_is_retried_at_once_then_for_a_while_and_then_the_run_says_it_failed()
    {
        var race = new JasperFx.ConcurrencyException(typeof(Run), Guid.NewGuid());
        Assert.Equal(["Retry Now", "Retry Now", "Retry Now", "Schedule Retry in 60 seconds", "Schedule Retry in 300 seconds",
            "Schedule Retry in 900 seconds", "dead letters, run failed"], Enumerable.Range(1, 7).Select(attempt => NextFor(race, attempt)).Select(Kind));
    }

    [Fact]
    public void a_handling_cancelled_or_timed_out_is_tried_again_for_a_while()
    {
        foreach (var exception in new Exception[] { new OperationCanceledException(), new TimeoutException() })
        {
            Assert.StartsWith("Retry Now", NextFor(exception, 1));
            Assert.Equal("Schedule Retry in 900 seconds", NextFor(exception, 6));
            Assert.Equal("dead letters, run failed", NextFor(exception, 7));
        }
    }

    [Fact]
    public void the_reason_the_run_records_names_no_host_and_no_sql_of_the_platform()
    {
        // What the tenant reads in the run's record and its endpoints receive in the failure's notification.
        var unreachable = RunFailures.ReasonFor(new Marten.Exceptions.MartenCommandException(
            new NpgsqlCommand("select enate.mt_quick_append_events($1)"), new NpgsqlException("Failed to connect to 10.20.30.40:5432", new SocketException(111))));
        var failed = RunFailures.ReasonFor(new Marten.Exceptions.MartenCommandException(
            new NpgsqlCommand("update wolverine.wolverine_incoming_envelopes set status = 'Handled'"),
            new PostgresException("could not access file \"base/16384/2619\"", "ERROR", "ERROR", "58P01")));
        var timedOut = RunFailures.ReasonFor(new TimeoutException("Timeout during reading attempt from db01.internal"));
        foreach (var reason in new[] { unreachable, failed, timedOut })
        {
            Assert.StartsWith("The run could not go on: ", reason);
            Assert.DoesNotContain("10.20.30.40", reason);
            Assert.DoesNotContain("db01", reason);
            Assert.DoesNotContain("wolverine", reason, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("mt_", reason);
            Assert.DoesNotContain("base/16384", reason);
        }
        Assert.Contains("58P01", failed);

        // A value of the run's own that the database refused: the tenant is told which, in PostgreSQL's words.
        var refused = RunFailures.ReasonFor(new Marten.Exceptions.MartenCommandException(
            new NpgsqlCommand("select enate.mt_quick_append_events($1)"),
            new PostgresException("value too long for type character varying(500)", "ERROR", "ERROR", "22001")));
        Assert.Equal("The run could not go on: the database refused a value of this run (SQLSTATE 22001: value too long for type character varying(500)).", refused);
        Assert.DoesNotContain("mt_", refused);

        // A reason worded for the tenant is given as it is; any other exception by its kind, whatever its text names.
        Assert.Equal("The run could not go on: Recipe version 'order:3' of run 1 does not exist.",
            RunFailures.ReasonFor(new RunCannotGoOn("Recipe version 'order:3' of run 1 does not exist.")));
        var unexpected = RunFailures.ReasonFor(new InvalidOperationException("Could not read /var/lib/enate/keys/key-1.xml for db01.internal"));
        Assert.Equal("The run could not go on: the platform failed (InvalidOperationException); its operators have the details.", unexpected);
    }

    private static string Kind(string next) => next.StartsWith("Retry Now") ? "Retry Now" : next;

    /// The first of the Workers' failure rules that decides the attempt (as Wolverine takes them, in order), or the dead
    /// letters when none does.
    private string NextFor(Exception exception, int attempt)
    {
        var runtime = App.Workers.Services.GetRequiredService<IWolverineRuntime>();
        var envelope = new Envelope(new ExecuteRun(Guid.NewGuid(), "demo")) { Attempts = attempt, TenantId = "demo" };
        foreach (var rule in ((Wolverine.ErrorHandling.IWithFailurePolicies)runtime.Options).Failures)
            if (rule.TryCreateContinuation(exception, envelope, out var next))
            {
                // A rule with further actions answers them together (Wolverine's CompositeContinuation, not public); the
                // one action of ours is recording the run's failure (RunFailures.RecordAsync).
                var all = (next.GetType().GetProperty("Inner")?.GetValue(next) as IEnumerable<IContinuation> ?? [next]).ToList();
                var text = string.Join(", ", all.Select(one => one.ToString()));
                if (!text.Contains("Error Queue")) return text;
                return all.Any(one => one.GetType().Name == "LambdaContinuation") ? "dead letters, run failed" : "dead letters";
            }
        return "dead letters";
    }
}
