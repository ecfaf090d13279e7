namespace Enate.Cli;

/// What `enate` exits with, for scripts and CI.
public static class ExitCodes
{
    /// Done as asked.
    public const int Ok = 0;
    /// The platform refused (a problem), could not be reached, or a file could not be read.
    public const int Failed = 1;
    /// The command line was wrong, or no profile is logged in.
    public const int Usage = 2;
    /// Done, and the answer is "no": recipes differ from the platform's, the audit chain does not verify, the run failed.
    public const int Differs = 3;
}

/// A command that cannot go on, with what to tell the user and the exit code.
public sealed class Failure(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
