// Package handlers holds both ends of the queue: the webhook receiver (HTTP in, JetStream out)
// and the worker (JetStream in, rules, executor).
package handlers

// Log field names, the same everywhere.
const (
	LogKeyDeliveryID     = "delivery_id"
	LogKeyEvent          = "event"
	LogKeyAction         = "action"
	LogKeyInstallationID = "installation_id"
	LogKeyRepo           = "repo"
	LogKeyNumber         = "number"
	LogKeyRule           = "rule"
)
