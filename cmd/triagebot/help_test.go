package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The settings of each group, as the commands' help must list them.
var (
	serverVars = []string{"TRIAGEBOT_LISTEN", "TRIAGEBOT_SHUTDOWN_TIMEOUT", "TRIAGEBOT_ADMIN_LISTEN", "TRIAGEBOT_ADMIN_TOKEN",
		"TRIAGEBOT_ADMIN_TOKEN_FILE", "TRIAGEBOT_NATS_WAIT"}
	receiverVars = []string{"TRIAGEBOT_WEBHOOK_SECRET", "TRIAGEBOT_WEBHOOK_SECRET_FILE", "TRIAGEBOT_MAX_INFLIGHT_BYTES", "TRIAGEBOT_SMEE_URL"}
	githubVars   = []string{"TRIAGEBOT_APP_ID", "TRIAGEBOT_PRIVATE_KEY_FILE", "TRIAGEBOT_GITHUB_URL"}
	queueVars    = []string{"TRIAGEBOT_NATS_URL", "TRIAGEBOT_NATS_CREDS", "TRIAGEBOT_NATS_CA", "TRIAGEBOT_NATS_CERT", "TRIAGEBOT_NATS_KEY",
		"TRIAGEBOT_DATA_DIR", "TRIAGEBOT_STORE_MAX_BYTES", "TRIAGEBOT_PARTITIONS", "TRIAGEBOT_DEDUP_WINDOW", "TRIAGEBOT_MAX_ATTEMPTS",
		"TRIAGEBOT_ACK_WAIT", "TRIAGEBOT_REPLICAS"}
	workerVars = []string{"TRIAGEBOT_CONFIG", "TRIAGEBOT_DRY_RUN", "TRIAGEBOT_RECONCILE_EVERY", "TRIAGEBOT_RECONCILE_PACE", "TRIAGEBOT_UNTRIAGED_SWEEP", "TRIAGEBOT_MAX_IN_FLIGHT"}
	logVars    = []string{"TRIAGEBOT_LOG_LEVEL", "TRIAGEBOT_LOG_FORMAT"}
)

func vars(groups ...[]string) []string { return slices.Concat(groups...) }

// Each command's --help shows its own usage line, its own flags and only the settings it reads.
func TestEveryCommandsHelp(t *testing.T) {
	tests := []struct {
		give      string // the command
		wantUsage string
		wantFlags []string // besides the settings' own flags
		wantVars  []string
	}{
		{give: "serve", wantUsage: "triagebot serve [flags]", wantVars: vars(serverVars, receiverVars, githubVars, queueVars, workerVars, logVars)},
		{give: "receive", wantUsage: "triagebot receive [flags]", wantVars: vars(serverVars, receiverVars, queueVars, logVars)},
		{give: "work", wantUsage: "triagebot work [flags]", wantVars: vars(serverVars, githubVars, queueVars, workerVars, logVars)},
		{give: "demo", wantUsage: "triagebot demo [flags]", wantFlags: []string{"--verbose"}},
		{give: "replay", wantUsage: "triagebot replay <event> <payload> [flags]", wantFlags: []string{"--config=FILE", "--bot=LOGIN"}},
		{give: "config validate", wantUsage: "triagebot config validate <file> [flags]", wantFlags: []string{"--server"}},
		{give: "config init", wantUsage: "triagebot config init [flags]", wantFlags: []string{"--from=OWNER/REPO", "-o, --output=FILE", "--force"}, wantVars: githubVars},
		{give: "audit", wantUsage: "triagebot audit <OWNER/REPO[#N]> [flags]", wantFlags: []string{"--since=\"7d\"", "--json"}, wantVars: vars(queueVars, logVars)},
		{give: "backfill", wantUsage: "triagebot backfill <owner/repo> [flags]", wantVars: vars(githubVars, queueVars, workerVars, logVars)},
		{give: "soak", wantUsage: "triagebot soak [flags]", wantFlags: []string{"--deliveries=2000", "--duplicates=0.2", "--kill-every=330"}},
		{give: "healthcheck", wantUsage: "triagebot healthcheck [flags]", wantFlags: []string{"--live"}, wantVars: []string{"TRIAGEBOT_LISTEN"}},
		{give: "dlq list", wantUsage: "triagebot dlq list [flags]", wantVars: vars(queueVars, logVars)},
		{give: "dlq retry", wantUsage: "triagebot dlq retry <seq> ... [flags]", wantVars: vars(queueVars, logVars)},
		{give: "dlq drop", wantUsage: "triagebot dlq drop <seq> ... [flags]", wantVars: vars(queueVars, logVars)},
		{give: "redeliver", wantUsage: "triagebot redeliver [flags]", wantFlags: []string{"--since=24h", "--list"}, wantVars: vars(githubVars, logVars)},
		{give: "setup", wantUsage: "triagebot setup --webhook-url=URL [flags]", wantFlags: []string{"--org=ORG", "--name=", "--listen=ADDR", "--no-browser", "--force"},
			wantVars: []string{"TRIAGEBOT_GITHUB_URL", "TRIAGEBOT_DATA_DIR"}},
		{give: "version", wantUsage: "triagebot version [flags]"},
	}
	// Every command has a row.
	var c cli
	parser, err := newParser(&c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var leaves, rows []string
	for _, n := range parser.Model.Leaves(false) {
		leaves = append(leaves, strings.TrimPrefix(n.FullPath(), "triagebot "))
	}
	for _, tt := range tests {
		rows = append(rows, tt.give)
	}
	slices.Sort(leaves)
	slices.Sort(rows)
	if diff := cmp.Diff(leaves, rows); diff != "" {
		t.Errorf("commands without a help row (-have +rows):\n%s", diff)
	}
	envRef := regexp.MustCompile(`\(\$(TRIAGEBOT_[A-Z_]+)\)`)
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(strings.Fields(tt.give), "--help"), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != 0 || stderr.Len() > 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			help := stdout.String()
			if first, _, _ := strings.Cut(help, "\n"); first != "Usage: "+tt.wantUsage {
				t.Errorf("usage line %q, want %q", first, "Usage: "+tt.wantUsage)
			}
			for _, f := range append([]string{"--help", "--version"}, tt.wantFlags...) {
				if !strings.Contains(help, f) {
					t.Errorf("no %s in:\n%s", f, help)
				}
			}
			var got []string
			for _, m := range envRef.FindAllStringSubmatch(strings.Join(strings.Fields(help), " "), -1) {
				got = append(got, m[1])
			}
			if diff := cmp.Diff(tt.wantVars, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, give := range [][]string{{"version"}, {"--version"}, {"serve", "--version"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), give, &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 0 {
			t.Fatalf("%q: exit %d %s", give, code, stderr.String())
		}
		if !regexp.MustCompile(`^triagebot \S+ commit \S+( \S+)? go1\.\d+`).MatchString(stdout.String()) {
			t.Errorf("%q: %q", give, stdout.String())
		}
	}
}
