// Package check holds the tests of the deploy files: the Dockerfile's build and nonroot data
// directory, compose, the Kubernetes manifests (decoded strictly against the API types), and
// the Grafana dashboard and Prometheus alerts (parsed with Prometheus's parser, every metric
// checked against a running triagebot's /metrics). It is a module of its own so that
// Prometheus and Kubernetes stay out of the bot's dependencies.
package check
