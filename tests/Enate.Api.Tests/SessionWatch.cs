using Marten;

namespace Enate.Api.Tests;

/// A Marten session logger that does nothing; a test overrides what it watches.
public abstract class SessionWatch : IMartenSessionLogger
{
    public virtual void OnBeforeExecute(Npgsql.NpgsqlCommand command) { }
    public virtual void OnBeforeExecute(Npgsql.NpgsqlBatch batch) { }
    public void LogSuccess(Npgsql.NpgsqlCommand command) { }
    public void LogFailure(Npgsql.NpgsqlCommand command, Exception ex) { }
    public void LogSuccess(Npgsql.NpgsqlBatch batch) { }
    public void LogFailure(Npgsql.NpgsqlBatch batch, Exception ex) { }
    public void LogFailure(Exception ex, string message) { }
    public void RecordSavedChanges(IDocumentSession session, Marten.Services.IChangeSet commit) { }
}
