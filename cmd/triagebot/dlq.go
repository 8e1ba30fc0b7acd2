package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
)

const dlqHelp = "With the embedded default, stop 'triagebot serve' first: one data directory serves one process."

// dlqCmd inspects and re-queues dead letters: events the workers gave up on.
type dlqCmd struct {
	List  dlqListCmd `cmd:"" help:"List every dead letter: sequence, time, event, delivery, attempts, reason."`
	Retry dlqSeqsCmd `cmd:"" help:"Put dead letters back on the event stream, then remove them here."`
	Drop  dlqSeqsCmd `cmd:"" help:"Delete dead letters."`
}

// dlqStore is the store the dlq commands read.
type dlqStore struct {
	queueSettings
	logSettings
}

type dlqListCmd struct{ dlqStore }

type dlqSeqsCmd struct {
	dlqStore
	Seqs []string `arg:"" name:"seq" help:"Sequence numbers (see 'triagebot dlq list'), or all."`
}

func (c *dlqListCmd) Help() string { return dlqHelp }
func (c *dlqSeqsCmd) Help() string { return dlqHelp }

func (c *dlqListCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	return c.dlqStore.run(ctx, kctx, o, "list", nil)
}

func (c *dlqSeqsCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	verb := kctx.Selected().Name
	var seqs []uint64
	if len(c.Seqs) != 1 || c.Seqs[0] != "all" {
		for _, a := range c.Seqs {
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil || n == 0 {
				return withExit(2, fmt.Errorf("dlq %s: %q is not a dead letter's sequence number (see 'triagebot dlq list')", verb, a))
			}
			seqs = append(seqs, n)
		}
	}
	return c.dlqStore.run(ctx, kctx, o, verb, seqs)
}

// run opens the store (never creating one), and lists, retries or drops (seqs nil: all).
func (c *dlqStore) run(ctx context.Context, kctx *kong.Context, o streams, verb string, seqs []uint64) error {
	if err := checkSettings(kctx, &c.queueSettings, &c.logSettings); err != nil {
		return err
	}
	s := settings{queueSettings: c.queueSettings, logSettings: c.logSettings}
	if s.NATSURL == "" {
		// A command that reads a store must not create one where there is none.
		if _, err := os.Stat(filepath.Join(s.DataDir, "jetstream")); err != nil {
			return withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: no triagebot store in %s (set TRIAGEBOT_DATA_DIR to the directory 'triagebot serve' uses)", s.DataDir))
		}
	}
	log, err := newLogger(s, o.stderr)
	if err != nil {
		return withExit(2, err)
	}
	a := &app{s: s, log: log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))}
	defer a.closeQueue()
	if err := a.connect(ctx); err != nil {
		return err
	}
	dls, err := a.q.DeadLetters(ctx, 0)
	if err != nil {
		return err
	}
	if verb == "list" {
		return printDeadLetters(o.stdout, dls)
	}
	known := map[uint64]bool{}
	for _, d := range dls {
		known[d.Seq] = true
	}
	if seqs == nil {
		for _, d := range dls {
			seqs = append(seqs, d.Seq)
		}
	}
	for _, seq := range seqs {
		if !known[seq] {
			return withExit(1, fmt.Errorf("dlq %s: there is no dead letter %d (see 'triagebot dlq list')", verb, seq))
		}
		if verb == "retry" {
			err = a.q.RetryDeadLetter(ctx, seq)
		} else {
			err = a.q.DropDeadLetter(ctx, seq)
		}
		if err != nil {
			return withExit(1, err)
		}
		fmt.Fprintf(o.stdout, "%s %d\n", map[string]string{"retry": "requeued", "drop": "dropped"}[verb], seq)
	}
	return nil
}

func printDeadLetters(w io.Writer, dls []queue.DeadLetter) error {
	if len(dls) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tDEAD-LETTERED\tEVENT\tDELIVERY\tATTEMPTS\tREASON")
	for _, d := range dls {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.At.Format(time.RFC3339), d.Event, d.DeliveryID, d.Attempts, d.Reason)
	}
	return tw.Flush()
}
