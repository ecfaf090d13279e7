namespace Enate.Domain.Runs;

/// A reason of the platform's own that a run cannot go on, worded for the tenant: its message becomes the reason the
/// run's record gives and its failure's notification carries. Any other exception that ends a run is told by its kind
/// only, since its text may name what is the platform's (a host, a file, a statement).
public sealed class RunCannotGoOn(string message) : Exception(message);
