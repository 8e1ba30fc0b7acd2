// Command triagebot-load sends signed webhook deliveries to a running triagebot receiver, at a
// fixed concurrency or a fixed rate, each with its own delivery id, and reports throughput,
// latency percentiles and the answers. With -ghfake it also starts an in-memory GitHub and a
// triagebot against it, and reports how long each delivery took to become a label at GitHub.
//
//	go run ./cmd/triagebot-load -url http://127.0.0.1:8080/webhook -secret change-me -c 32 -n 5000
//	go build -o /tmp/triagebot ./cmd/triagebot
//	go run ./cmd/triagebot-load -ghfake -serve /tmp/triagebot -rate 300 -n 3000 -installations 100
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
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "triagebot-load:", err)
		}
		os.Exit(2)
	}
}

// config is what a run does.
type config struct {
	url           string
	secret        string
	payload       string
	event         string
	n             int
	duration      time.Duration
	concurrency   int
	rate          float64
	installations int
	issues        int
	size          int
	sign          string
	timeout       time.Duration

	baseline      bool
	serveBaseline string

	pid       int
	sampleRSS time.Duration
	handled   string

	ghfake  bool
	serve   string
	work    int
	latency time.Duration
	settle  time.Duration
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("triagebot-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080/webhook", "the receiver's /webhook URL (ignored with -ghfake)")
	fs.StringVar(&c.secret, "secret", os.Getenv("TRIAGEBOT_WEBHOOK_SECRET"), "webhook secret (default $TRIAGEBOT_WEBHOOK_SECRET)")
	fs.StringVar(&c.payload, "payload", "testdata/webhooks/issues/opened.json", "payload to send (ignored with -ghfake)")
	fs.StringVar(&c.event, "event", "issues", "X-GitHub-Event of the deliveries (random: a new invented name each)")
	fs.IntVar(&c.n, "n", 1000, "deliveries to send (at most 1,000,000)")
	fs.DurationVar(&c.duration, "duration", time.Minute, "stop sending after this long (at most 10m)")
	fs.IntVar(&c.concurrency, "c", 32, "deliveries in flight at once (with -rate: at most)")
	fs.Float64Var(&c.rate, "rate", 0, "deliveries per second (0: as fast as -c allows)")
	fs.IntVar(&c.installations, "installations", 1, "spread deliveries over this many installations (and repositories)")
	fs.IntVar(&c.issues, "issues", 1, "spread deliveries over this many issues per repository")
	fs.IntVar(&c.size, "size", 0, "pad each body to this many bytes with a \"padding\" field (0: as it is)")
	fs.StringVar(&c.sign, "sign", "valid", "signature: valid, forged (a wrong HMAC) or none")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.BoolVar(&c.baseline, "baseline", false, "load a bare handler (read, verify the HMAC, answer 202) served by this process instead of -url: the floor to compare a receiver with")
	fs.StringVar(&c.serveBaseline, "serve-baseline", "", "only serve the bare handler of -baseline on this address (e.g. 127.0.0.1:8090) for -duration or until interrupted, to load it from another process like a receiver")
	fs.IntVar(&c.pid, "pid", 0, "sample this process's memory (VmRSS, VmHWM from /proc, Linux) while sending, e.g. the triagebot serving -url")
	fs.DurationVar(&c.sampleRSS, "sample-every", 5*time.Second, "with -pid: how often to sample")
	fs.StringVar(&c.handled, "handled", "", "the triagebot's /metrics URL (e.g. http://127.0.0.1:8080/metrics): after sending, wait (at most -settle) until it has handled every delivery it answered 202, and print how long that took")
	fs.BoolVar(&c.ghfake, "ghfake", false, "start an in-memory GitHub and a triagebot (-serve) against it, and measure delivery → label latency")
	fs.StringVar(&c.serve, "serve", "", "with -ghfake: the triagebot binary to start (go build -o /tmp/triagebot ./cmd/triagebot)")
	fs.IntVar(&c.work, "work", 0, "with -ghfake: 0 starts one triagebot serve (its embedded store); N starts a NATS server in this tool, one triagebot receive and N triagebot work processes against it")
	fs.DurationVar(&c.latency, "latency", 0, "with -ghfake: how long the in-memory GitHub takes to answer each request")
	fs.DurationVar(&c.settle, "settle", 30*time.Second, "with -ghfake or -handled: how long to wait for the last labels or handled deliveries after sending")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.n < 1 || c.n > 1_000_000:
		return c, fmt.Errorf("-n %d: between 1 and 1,000,000", c.n)
	case c.duration <= 0 || c.duration > 10*time.Minute:
		return c, fmt.Errorf("-duration %s: between 0 and 10m", c.duration)
	case c.concurrency < 1 || c.concurrency > 10_000:
		return c, fmt.Errorf("-c %d: between 1 and 10,000", c.concurrency)
	case c.rate < 0:
		return c, fmt.Errorf("-rate %g: not negative", c.rate)
	case c.installations < 1 || c.issues < 1:
		return c, errors.New("-installations and -issues: at least 1")
	case c.sign != "valid" && c.sign != "forged" && c.sign != "none":
		return c, fmt.Errorf("-sign %q: valid, forged or none", c.sign)
	case c.secret == "" && c.sign == "valid" && !c.ghfake:
		return c, errors.New("-secret (or TRIAGEBOT_WEBHOOK_SECRET): required to sign")
	case c.pid < 0 || c.pid > 0 && c.ghfake:
		return c, fmt.Errorf("-pid %d: a process id, and not with -ghfake", c.pid)
	case c.sampleRSS < 100*time.Millisecond:
		return c, fmt.Errorf("-sample-every %s: at least 100ms", c.sampleRSS)
	case c.handled != "" && (c.ghfake || c.baseline):
		return c, errors.New("-handled: not with -ghfake or -baseline")
	case c.ghfake && c.serve == "":
		return c, errors.New("-ghfake needs -serve, the triagebot binary to start against it")
	case c.work < 0 || c.work > 16 || c.work > 0 && !c.ghfake:
		return c, fmt.Errorf("-work %d: between 0 and 16, with -ghfake", c.work)
	case c.ghfake && c.installations*c.issues > 100_000:
		return c, errors.New("-ghfake: at most 100,000 issues (-installations x -issues)")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if c.ghfake {
		return runGHFake(ctx, c, stdout)
	}
	if c.serveBaseline != "" {
		stop, addr, err := serveBaseline(c.secret, c.serveBaseline)
		if err != nil {
			return fmt.Errorf("-serve-baseline: %w", err)
		}
		defer stop()
		fmt.Fprintf(stdout, "baseline listening on %s\n", addr)
		t := time.NewTimer(c.duration)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil
	}
	raw, err := os.ReadFile(c.payload)
	if err != nil {
		return fmt.Errorf("-payload: %w", err)
	}
	bodies, err := spread(raw, c)
	if err != nil {
		return fmt.Errorf("-payload %s: %w", c.payload, err)
	}
	url := c.url
	if c.baseline {
		stop, addr, err := serveBaseline(c.secret, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer stop()
		url = "http://" + addr + "/webhook"
	}
	var rss *rssSampler
	if c.pid > 0 {
		if rss, err = sampleRSS(c.pid, c.sampleRSS); err != nil {
			return err
		}
	}
	var handled *handledWatch
	if c.handled != "" {
		if handled, err = watchHandled(ctx, c.handled); err != nil {
			return err
		}
	}
	res := send(ctx, c, url, bodies)
	res.print(stdout, c)
	if handled != nil {
		if err := handled.wait(ctx, stdout, res.count("202"), res.first(), res.last(), c.settle); err != nil {
			return err
		}
	}
	if rss != nil {
		samples, err := rss.finish()
		printRSS(stdout, c.pid, samples, err)
	}
	return nil
}
