// Command triagebot is a GitHub App that triages issues: see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitError carries the process exit status of a failure: 1 for a command whose input was bad
// (replay, config validate), 2 for a setting or usage error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit marks err with an exit status.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// errHelp means --help was asked for and printed; the exit status is 0.
var errHelp = errors.New("help printed")

// errSilent is a failure whose message has already been printed.
var errSilent = errors.New("failed")

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintln(stderr, "triagebot:", err)
	}
	return code
}

// cli is the command line: each subcommand with its arguments, flags and the settings groups
// it reads (settings.go).
type cli struct {
	Help    helpFlag    `short:"h" help:"Show help for the command."`
	Version versionFlag `help:"Print the version and exit."`

	Setup       setupCmd       `cmd:"" help:"Register the GitHub App from its manifest, in a browser, and write its settings."`
	Serve       serveCmd       `cmd:"" help:"Receiver + workers (embedded NATS JetStream unless TRIAGEBOT_NATS_URL is set)."`
	Receive     receiveCmd     `cmd:"" help:"The webhook receiver alone."`
	Work        workCmd        `cmd:"" help:"The workers alone."`
	Demo        demoCmd        `cmd:"" help:"The whole pipeline against an in-memory GitHub, printing a timeline."`
	Replay      replayCmd      `cmd:"" help:"The actions the rules would take on a payload, as JSON lines."`
	Config      configCmd      `cmd:"" help:"Check a .github/triagebot.yml."`
	DLQ         dlqCmd         `cmd:"" name:"dlq" help:"Inspect and re-queue dead letters."`
	Redeliver   redeliverCmd   `cmd:"" help:"Ask GitHub to redeliver deliveries that failed."`
	Backfill    backfillCmd    `cmd:"" help:"Label a repository's open issues the bot never saw (once)."`
	Soak        soakCmd        `cmd:"" help:"A bounded chaos run of serve against an in-memory GitHub."`
	Audit       auditCmd       `cmd:"" help:"The audit trail of a repository or an issue: what the bot did, and why."`
	Healthcheck healthcheckCmd `cmd:"" help:"Ask a running triagebot whether it is ready (the container health check)."`
	VersionCmd  versionCmd     `cmd:"" name:"version" help:"Print the version, commit and Go version."`
}

// helpFlag prints the help of the command it follows.
type helpFlag bool

func (helpFlag) BeforeReset(kctx *kong.Context) error {
	if err := kctx.PrintUsage(false); err != nil {
		return err
	}
	return errHelp
}

// versionFlag is --version.
type versionFlag bool

func (versionFlag) BeforeReset(kctx *kong.Context) error {
	fmt.Fprintln(kctx.Stdout, versionLine())
	return errHelp
}

// streams are the command's input, output and log streams.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newParser(c *cli, stdout, stderr io.Writer) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("triagebot"),
		kong.Description("A GitHub App that triages issues."),
		kong.NoDefaultHelp(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) {}), // never: run returns, main exits once
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
	)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO is run with the standard input given.
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c cli
	parser, err := newParser(&c, stdout, stderr)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		kctx, _ := kong.Trace(parser, nil)
		_ = kctx.PrintUsage(false)
		return withExit(2, errors.New("no command given"))
	}
	kctx, err := parser.Parse(args)
	if errors.Is(err, errHelp) {
		return errHelp
	}
	if err != nil {
		return usageError(err)
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	return kctx.Run(streams{stdin, stdout, stderr})
}
