return await Vitals.Gateway.Cli.RunAsync(args).ConfigureAwait(false);
