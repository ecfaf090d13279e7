using Enate.Cli;

return await Cli.RunAsync(args, Terminal.FromSystem());
