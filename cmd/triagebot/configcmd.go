package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// configCmd groups the commands about configuration files.
type configCmd struct {
	Validate configValidateCmd `cmd:"" help:"Check a .github/triagebot.yml (or, with --server, the TRIAGEBOT_CONFIG file)."`
}

type configValidateCmd struct {
	File   string `arg:"" type:"path" help:"The file to check."`
	Server bool   `help:"The file is the server-side TRIAGEBOT_CONFIG (defaults and notification channels)."`
}

func (c *configValidateCmd) Help() string {
	return "Exit status 0 and a one-line summary for a good file; 1 and every problem with its line for a bad one."
}

func (c *configValidateCmd) Run(o streams) error {
	stdout, stderr := o.stdout, o.stderr
	file := c.File
	data, err := os.ReadFile(file)
	if err != nil {
		return withExit(1, fmt.Errorf("config validate: %w", err))
	}
	if c.Server {
		return validateServerConfig(file, data, stdout, stderr)
	}
	cfg, err := rules.ParseConfig(rules.DefaultConfig(), data)
	if err != nil {
		n := printConfigErrors(stderr, file, err)
		return withExit(1, fmt.Errorf("config validate: %s: %d problems: %w", file, n, errSilent))
	}
	fmt.Fprintf(stdout, "%s: ok: %s\n", file, summarise(cfg, -1))
	return nil
}

// validateServerConfig checks a TRIAGEBOT_CONFIG file: `defaults` as rules reads them, and
// `channels` as internal/notify does (it alone knows each channel type's settings).
func validateServerConfig(file string, data []byte, stdout, stderr io.Writer) error {
	sc, err := rules.ParseServerConfig(data)
	var problems []rules.FieldError
	var ce *rules.ConfigError
	if errors.As(err, &ce) {
		problems = ce.Errors
	} else if err != nil {
		problems = []rules.FieldError{{Msg: err.Error()}}
	}
	channels, nerr := notify.ParseServerConfig(data)
	var ne *notify.ConfigError
	if errors.As(nerr, &ne) {
		// notify is the authority on channels; rules only checked their types.
		problems = slices.DeleteFunc(problems, func(fe rules.FieldError) bool { return strings.HasPrefix(fe.Path, "channels") })
		for _, fe := range ne.Errors {
			problems = append(problems, rules.FieldError{Line: fe.Line, Path: fe.Path, Msg: fe.Msg})
		}
	} else if nerr != nil {
		problems = append(problems, rules.FieldError{Path: "channels", Msg: nerr.Error()})
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b rules.FieldError) int { return a.Line - b.Line })
		n := printConfigErrors(stderr, file, &rules.ConfigError{Errors: slices.CompactFunc(problems, func(a, b rules.FieldError) bool { return a == b })})
		return withExit(1, fmt.Errorf("config validate: %s: %d problems: %w", file, n, errSilent))
	}
	fmt.Fprintf(stdout, "%s: ok: %s\n", file, summarise(sc.Defaults, len(channels)))
	return nil
}

// printConfigErrors prints every problem of a configuration file as FILE:LINE: PATH: MESSAGE and
// says how many there were.
func printConfigErrors(w io.Writer, file string, err error) int {
	var ce *rules.ConfigError
	if !errors.As(err, &ce) {
		fmt.Fprintf(w, "%s: %v\n", file, err)
		return 1
	}
	for _, fe := range ce.Errors {
		loc := file
		if fe.Line > 0 {
			loc = fmt.Sprintf("%s:%d", file, fe.Line)
		}
		if fe.Path != "" {
			fmt.Fprintf(w, "%s: %s: %s\n", loc, fe.Path, fe.Msg)
		} else {
			fmt.Fprintf(w, "%s: %s\n", loc, fe.Msg)
		}
	}
	return len(ce.Errors)
}

// summarise describes the effective configuration in one line.
func summarise(cfg rules.Config, channels int) string {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	var parts []string
	nt := "needs-triage " + onOff(cfg.NeedsTriage.Enabled)
	if cfg.NeedsTriage.Enabled {
		nt += fmt.Sprintf(" (%q)", cfg.NeedsTriage.Label)
	}
	parts = append(parts, nt)
	p := "priority " + onOff(cfg.Priority.Enabled)
	if cfg.Priority.Enabled {
		p += fmt.Sprintf(" (%d levels by %s)", len(cfg.Priority.Levels), cfg.Priority.Score)
	}
	parts = append(parts, p)
	c := "code of conduct " + onOff(cfg.CodeOfConduct.Enabled)
	if cfg.CodeOfConduct.Enabled {
		c += fmt.Sprintf(" (reply %s)", cfg.CodeOfConduct.Reply)
	}
	parts = append(parts, c, "commands "+onOff(cfg.Commands.Enabled), count(len(cfg.Notifications.Routes), "notification route"))
	if channels >= 0 {
		parts = append(parts, count(channels, "channel"))
	}
	return strings.Join(parts, ", ")
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
