package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/triagebot/triagebot/queue"
)

const dlqUsage = `Inspects and re-queues dead letters: events the workers gave up on.

  triagebot dlq list [flags]              every dead letter: sequence, time, event, delivery, attempts, reason
  triagebot dlq retry [flags] SEQ...|all  put them back on the event stream, then remove them here
  triagebot dlq drop [flags] SEQ...|all   delete them

With the embedded default, stop 'triagebot serve' first: one data directory serves one process.`

func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry" && args[0] != "drop") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "Usage:\n"+dlqUsage)
			return errHelp
		}
		fmt.Fprintln(stderr, "Usage:\n"+dlqUsage)
		return withExit(2, errors.New("dlq: say list, retry or drop"))
	}
	verb := args[0]
	s, rest, err := parseSettingsArgs("dlq", args[1:], os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	var seqs []uint64
	all := len(rest) == 1 && rest[0] == "all"
	if !all {
		for _, a := range rest {
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil || n == 0 {
				return withExit(2, fmt.Errorf("dlq %s: %q is not a dead letter's sequence number (see 'triagebot dlq list')", verb, a))
			}
			seqs = append(seqs, n)
		}
	}
	if verb == "list" && len(rest) > 0 {
		return withExit(2, fmt.Errorf("dlq list takes no arguments, got %q", rest[0]))
	}
	if verb != "list" && !all && len(seqs) == 0 {
		return withExit(2, fmt.Errorf("dlq %s: name the sequence numbers, or all", verb))
	}
	a, err := openQueue(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer a.closeQueue()
	dls, err := a.q.DeadLetters(ctx, 0)
	if err != nil {
		return err
	}
	if verb == "list" {
		return printDeadLetters(stdout, dls)
	}
	if all {
		for _, d := range dls {
			seqs = append(seqs, d.Seq)
		}
	}
	for _, seq := range seqs {
		if verb == "retry" {
			err = a.q.RetryDeadLetter(ctx, seq)
		} else {
			err = a.q.DropDeadLetter(ctx, seq)
		}
		if err != nil {
			return withExit(1, err)
		}
		fmt.Fprintf(stdout, "%s %d\n", map[string]string{"retry": "requeued", "drop": "dropped"}[verb], seq)
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
