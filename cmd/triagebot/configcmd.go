package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// configCmd groups the commands about configuration files.
type configCmd struct {
	Validate configValidateCmd `cmd:"" help:"Check a .github/triagebot.yml (or, with --server, the TRIAGEBOT_CONFIG file)."`
	Init     configInitCmd     `cmd:"" help:"Write a starter .github/triagebot.yml, every default commented; --from proposes labels from a repository."`
}

type configValidateCmd struct {
	File   string `arg:"" help:"The file to check; - reads standard input."`
	Server bool   `help:"The file is the server-side TRIAGEBOT_CONFIG (defaults and notification channels)."`
}

func (c *configValidateCmd) Help() string {
	return "Exit status 0 and a one-line summary for a good file; 1 and every problem with its line for a bad one."
}

func (c *configValidateCmd) Run(o streams) error {
	stdout, stderr := o.stdout, o.stderr
	file := c.File
	var data []byte
	var err error
	if file == "-" {
		file = "<stdin>"
		data, err = io.ReadAll(o.stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return withExit(1, fmt.Errorf("config validate: %w", err))
	}
	if n := tabIndented(data); n > 0 {
		fmt.Fprintf(stderr, "%s:%d: indented with a tab: YAML indents with spaces only\n", file, n)
		return withExit(1, fmt.Errorf("config validate: %s: 1 problem: %w", file, errSilent))
	}
	if c.Server {
		return validateServerConfig(file, data, stdout, stderr)
	}
	cfg, err := rules.ParseConfig(rules.DefaultConfig(), data)
	if err != nil {
		n := printConfigErrors(stderr, file, err)
		return withExit(1, fmt.Errorf("config validate: %s: %d problems: %w", file, n, errSilent))
	}
	var keys map[string]any
	if yaml.Unmarshal(data, &keys) == nil && len(keys) == 0 {
		what := "empty"
		if len(strings.TrimSpace(string(data))) > 0 {
			what = "no settings, only comments"
		}
		fmt.Fprintf(stdout, "%s: %s: every default applies: %s\n", file, what, summarise(cfg, -1))
		return nil
	}
	fmt.Fprintf(stdout, "%s: ok: %s\n", file, summarise(cfg, -1))
	return nil
}

// tabIndented is the first line (from 1) indented with a tab, or 0.
func tabIndented(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") && strings.TrimSpace(line) != "" {
			return i + 1
		}
	}
	return 0
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
	syntax := slices.ContainsFunc(problems, func(fe rules.FieldError) bool { return fe.Path == "" })
	channels, nerr := notify.ParseServerConfig(data)
	var ne *notify.ConfigError
	if errors.As(nerr, &ne) {
		// notify is the authority on channels; rules only checked their types.
		problems = slices.DeleteFunc(problems, func(fe rules.FieldError) bool { return strings.HasPrefix(fe.Path, "channels") })
		for _, fe := range ne.Errors {
			if fe.Path == "" && syntax {
				continue // the same syntax error, said once (by rules, in plainer words)
			}
			problems = append(problems, rules.FieldError{Line: fe.Line, Path: fe.Path, Msg: fe.Msg})
		}
	} else if nerr != nil {
		problems = append(problems, rules.FieldError{Path: "channels", Msg: nerr.Error()})
	}
	if !syntax {
		for _, mf := range missingFiles(data) {
			if !slices.ContainsFunc(problems, func(fe rules.FieldError) bool { return fe.Path == mf.Path }) {
				problems = append(problems, mf) // a key already refused is not also a missing file
			}
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b rules.FieldError) int { return a.Line - b.Line })
		n := printConfigErrors(stderr, file, &rules.ConfigError{Errors: slices.CompactFunc(problems, func(a, b rules.FieldError) bool { return a == b })})
		return withExit(1, fmt.Errorf("config validate: %s: %d problems: %w", file, n, errSilent))
	}
	fmt.Fprintf(stdout, "%s: ok: %s\n", file, summarise(sc.Defaults, len(channels)))
	return nil
}

// missingFiles are the files a server configuration names (channels' password_file, url_file,
// any *_file) that cannot be read here.
func missingFiles(data []byte) []rules.FieldError {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var out []rules.FieldError
	pairs := func(n *yaml.Node, f func(k, v *yaml.Node)) {
		if n != nil && n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				f(n.Content[i], n.Content[i+1])
			}
		}
	}
	pairs(doc.Content[0], func(k, v *yaml.Node) {
		if k.Value != "channels" {
			return
		}
		pairs(v, func(name, ch *yaml.Node) {
			pairs(ch, func(k, v *yaml.Node) {
				if !strings.HasSuffix(k.Value, "_file") || v.Kind != yaml.ScalarNode || v.Value == "" {
					return
				}
				if f, err := os.Open(v.Value); err != nil {
					out = append(out, rules.FieldError{Line: v.Line, Path: "channels." + name.Value + "." + k.Value,
						Msg: fmt.Sprintf("cannot read %s here: %v", v.Value, errors.Unwrap(err))})
				} else {
					f.Close()
				}
			})
		})
	})
	return out
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
