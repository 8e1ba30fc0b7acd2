// Package ops is what an operator watches: the Prometheus metrics of /metrics (with bounded
// label sets: no repository names or user input), the GitHub request accounting behind them, and
// the queue snapshot that both /metrics and the status page read from JetStream at scrape time.
package ops
