package check

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// documents splits a multi-document YAML file.
func documents(data []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// TestKubernetesManifestsDecodeStrictly decodes every document of deploy/kubernetes/*.yaml
// (but the Helm values) strictly against the Kubernetes API types: an unknown or misspelt
// field fails, as `kubectl apply --validate=strict` would.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	var deployments []appsv1.Deployment
	var pdbs []policyv1.PodDisruptionBudget
	var cm *corev1.ConfigMap
	services := 0
	for i, doc := range documents(readFile(t, "deploy/kubernetes/triagebot.yaml")) {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			deployments = append(deployments, appsv1.Deployment{})
			obj = &deployments[len(deployments)-1]
		case "policy/v1 PodDisruptionBudget":
			pdbs = append(pdbs, policyv1.PodDisruptionBudget{})
			obj = &pdbs[len(pdbs)-1]
		case "v1 ConfigMap":
			cm = &corev1.ConfigMap{}
			obj = cm
		case "v1 Service":
			services++
			obj = &corev1.Service{}
		default:
			t.Fatalf("document %d: %s %s is not a kind this test knows", i, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("document %d (%s): %v", i, head.Kind, err)
		}
	}
	if len(deployments) != 2 || len(pdbs) != 2 || cm == nil || services != 1 {
		t.Fatalf("%d deployments, %d disruption budgets, configmap %v, %d services", len(deployments), len(pdbs), cm != nil, services)
	}
	for _, d := range deployments {
		checkDeployment(t, d, cm)
		covered := false
		for _, p := range pdbs {
			covered = covered || (p.Spec.Selector != nil && fmt.Sprint(p.Spec.Selector.MatchLabels) == fmt.Sprint(d.Spec.Selector.MatchLabels) && p.Spec.MinAvailable != nil)
		}
		if !covered {
			t.Errorf("%s: no PodDisruptionBudget selects its pods", d.Name)
		}
	}
	// The configuration the ConfigMap carries is one triagebot accepts.
	if _, err := rules.ParseServerConfig([]byte(cm.Data["triagebot.yml"])); err != nil {
		t.Errorf("ConfigMap triagebot.yml: %v", err)
	}
	if _, err := notify.ParseServerConfig([]byte(cm.Data["triagebot.yml"])); err != nil {
		t.Errorf("ConfigMap triagebot.yml channels: %v", err)
	}
}

func checkDeployment(t *testing.T, d appsv1.Deployment, cm *corev1.ConfigMap) {
	t.Helper()
	ps := d.Spec.Template.Spec
	if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("%s: the pod must run as the nonroot user 65532", d.Name)
	}
	if a := d.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("%s: no metrics scraping annotations: %v", d.Name, a)
	}
	secretVolume := map[string]bool{}
	for _, v := range ps.Volumes {
		if v.Secret != nil {
			secretVolume[v.Name] = true
		}
	}
	for _, c := range ps.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
			continue
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: privilege escalation allowed", d.Name, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: the root filesystem is writable", d.Name, c.Name)
		case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL":
			t.Errorf("%s/%s: capabilities not all dropped", d.Name, c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: requests and a memory limit are needed: %v", d.Name, c.Name, c.Resources)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" ||
			c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s/%s: probes must be /readyz and /healthz", d.Name, c.Name)
		}
		fromConfigMap := false
		for _, e := range c.EnvFrom {
			fromConfigMap = fromConfigMap || (e.ConfigMapRef != nil && e.ConfigMapRef.Name == cm.Name)
		}
		if !fromConfigMap {
			t.Errorf("%s/%s: settings not from the ConfigMap", d.Name, c.Name)
		}
		for _, e := range c.Env {
			if strings.Contains(e.Name, "SECRET") && !strings.HasSuffix(e.Name, "_FILE") {
				t.Errorf("%s/%s: %s set in the manifest; secrets come from the Secret", d.Name, c.Name, e.Name)
			}
		}
		secretMounted := false
		for _, m := range c.VolumeMounts {
			secretMounted = secretMounted || (secretVolume[m.Name] && m.ReadOnly)
		}
		if !secretMounted {
			t.Errorf("%s/%s: no read-only mount of the Secret", d.Name, c.Name)
		}
	}
}

// TestNATSHelmValues: the official chart's values give a 3-server cluster with JetStream on
// files and a max_payload for GitHub's 25 MiB deliveries, on the embedded server's minor version.
func TestNATSHelmValues(t *testing.T) {
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool
				Replicas int
			}
			JetStream struct {
				Enabled   bool
				FileStore struct {
					Enabled bool
					Dir     string
					PVC     struct {
						Enabled bool
						Size    string
					}
				} `json:"fileStore"`
				MemoryStore struct{ Enabled bool } `json:"memoryStore"`
			} `json:"jetstream"`
			Merge struct {
				MaxPayload int64 `json:"max_payload"`
			}
		}
		Container struct {
			Image struct{ Tag string }
		}
		PodTemplate map[string]any `json:"podTemplate"`
	}
	if err := yaml.UnmarshalStrict(readFile(t, "deploy/kubernetes/nats-values.yaml"), &v); err != nil {
		t.Fatal(err)
	}
	c := v.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas != 3 {
		t.Errorf("cluster: %+v, want enabled with 3 replicas", c.Cluster)
	}
	if !c.JetStream.Enabled || !c.JetStream.FileStore.Enabled || !c.JetStream.FileStore.PVC.Enabled {
		t.Errorf("jetstream: %+v, want file storage on a volume", c.JetStream)
	}
	if c.Merge.MaxPayload < 25<<20+64<<10 {
		t.Errorf("max_payload %d is below GitHub's 25 MiB deliveries", c.Merge.MaxPayload)
	}
	if want := natsMinor(t) + "-alpine"; v.Container.Image.Tag != want {
		t.Errorf("NATS image tag %q, want %q (the embedded server's minor version)", v.Container.Image.Tag, want)
	}
}

// natsMinor is the embedded nats-server's minor version from the bot's go.mod ("2.15").
func natsMinor(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\d+\.\d+)\.`).FindSubmatch(readFile(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod does not require nats-server")
	}
	return string(m[1])
}
