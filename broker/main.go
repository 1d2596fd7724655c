package broker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Main runs a standalone broker, as `kconnect broker` does, until SIGINT or
// SIGTERM; args are the command-line arguments after the subcommand name.
// It prints the listen address on its own line to stdout once clients can
// connect. A -h or --help argument returns flag.ErrHelp after printing usage.
func Main(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal while we save state should kill us as usual.
	context.AfterFunc(ctx, stop)
	// This process owns the broker, so it may exit when the data dir fails.
	return run(ctx, args, os.Stdout, os.Stderr, Options{Logger: slog.Default(), HaltOnStorageFailure: true})
}

// run runs a standalone broker with opts and the options args set.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, opts Options) error {
	flags := flag.NewFlagSet("kconnect broker", flag.ContinueOnError)
	flags.SetOutput(stderr)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	logger := opts.Logger
	flags.StringVar(&opts.Host, "host", "127.0.0.1", "`host` to listen on and advertise to clients")
	flags.IntVar(&opts.Port, "port", 9092, "`port` to listen on; 0 picks a free one")
	flags.StringVar(&opts.DataDir, "data-dir", "", "`directory` to keep topics, records and offsets in across restarts (default: memory only)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("kconnect broker: unexpected argument %q", flags.Arg(0))
	}
	b, err := Start(opts)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, b.Addr()); err != nil {
		return errors.Join(fmt.Errorf("print listen address: %w", err), b.Close())
	}
	<-ctx.Done()
	logger.Info("embedded broker shutting down", "addr", b.Addr())
	return b.Close()
}
