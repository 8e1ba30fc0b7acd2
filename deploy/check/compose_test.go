package check

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification deploy/compose.yaml uses; decoding it
// strictly catches a misspelt or misplaced key.
type composeFile struct {
	Name     string
	Services map[string]struct {
		Image string
		Build *struct {
			Context    string
			Dockerfile string
		}
		Command     []string
		Environment map[string]string
		Secrets     []string
		Ports       []string
		Volumes     []string
		Restart     string
		Deploy      *struct{ Replicas int }
		Healthcheck *struct {
			Test        []string
			Interval    string
			Timeout     string
			Retries     int
			StartPeriod string `json:"start_period"`
		}
		DependsOn map[string]struct{ Condition string } `json:"depends_on"`
	}
	Secrets map[string]struct{ File string }
	Volumes map[string]struct{}
}

func TestComposeStartsInAnyOrderAndHeals(t *testing.T) {
	var c composeFile
	if err := yaml.UnmarshalStrict(readFile(t, "deploy/compose.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	nats, ok := c.Services["nats"]
	if !ok {
		t.Fatal("no nats service")
	}
	if want := "nats:" + natsMinor(t) + "-alpine"; nats.Image != want {
		t.Errorf("NATS image %q, want %q (the embedded server's minor version)", nats.Image, want)
	}
	cmd := strings.Join(nats.Command, " ")
	if !strings.Contains(cmd, "--jetstream") || !strings.Contains(cmd, "--max_payload 33554432") {
		t.Errorf("NATS command %q: want JetStream and max_payload 32 MiB", cmd)
	}
	for name, s := range c.Services {
		if s.Restart != "unless-stopped" {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("%s: no health check", name)
		}
		if name == "nats" {
			continue
		}
		if got := strings.Join(s.Healthcheck.Test, " "); got != "CMD /triagebot healthcheck" {
			t.Errorf("%s: health check %q, want the binary's own (distroless has no shell)", name, got)
		}
		if s.DependsOn["nats"].Condition != "service_healthy" {
			t.Errorf("%s: depends_on nats %+v, want condition service_healthy", name, s.DependsOn)
		}
		if s.Environment["TRIAGEBOT_NATS_URL"] != "nats://nats:4222" || s.Environment["TRIAGEBOT_NATS_WAIT"] == "" {
			t.Errorf("%s: environment %v", name, s.Environment)
		}
		for k, v := range s.Environment {
			if strings.Contains(k, "SECRET") && !strings.HasSuffix(k, "_FILE") || strings.Contains(v, "BEGIN") {
				t.Errorf("%s: %s holds a secret; secrets come from files", name, k)
			}
		}
	}
}
