// Command triagebot is a GitHub App that triages issues: see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
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

const usage = `triagebot: a GitHub App that triages issues.

Usage:
  triagebot serve                  receiver + workers (embedded NATS JetStream unless TRIAGEBOT_NATS_URL is set)
  triagebot receive                the webhook receiver alone
  triagebot work                   the workers alone
  triagebot demo                   the whole pipeline against an in-memory GitHub, printing a timeline
  triagebot replay EVENT FILE      the actions the rules would take on a payload, as JSON lines
  triagebot config validate FILE   check a .github/triagebot.yml
  triagebot dlq list|retry|drop    inspect and re-queue dead letters
  triagebot redeliver [--since DUR] [--list]  ask GitHub to redeliver deliveries that failed
  triagebot backfill OWNER/REPO    label a repository's open issues the bot never saw (once)
  triagebot soak [flags]           a bounded chaos run of serve against an in-memory GitHub

Run 'triagebot COMMAND --help' for a command's flags and settings.
`

// command is one subcommand: it gets the arguments after its name.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func commands() map[string]command {
	return map[string]command{
		"serve":     cmdServe,
		"receive":   cmdReceive,
		"work":      cmdWork,
		"replay":    cmdReplay,
		"config":    cmdConfig,
		"dlq":       cmdDLQ,
		"demo":      cmdDemo,
		"redeliver": cmdRedeliver,
		"soak":      cmdSoak,
		"backfill":  cmdBackfill,
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return withExit(2, errors.New("no command given"))
		}
		return nil
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return withExit(2, fmt.Errorf("unknown command %q", args[0]))
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// parseArgs parses fs's flags wherever they stand among the positional arguments, which it
// returns. --help prints usage and gives errHelp; a bad flag prints usage and gives exit 2.
func parseArgs(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return nil, errHelp
			}
			fmt.Fprint(stderr, usage)
			return nil, withExit(2, fmt.Errorf("%s: %w", fs.Name(), err))
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
