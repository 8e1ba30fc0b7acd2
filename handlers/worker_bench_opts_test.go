package handlers_test

import "github.com/triagebot/triagebot/queue"

// benchConsumeOptions are serve's on the embedded store: the sole consumer.
func benchConsumeOptions(observe func(queue.Outcome)) queue.ConsumeOptions {
	return queue.ConsumeOptions{Observe: observe, Takeover: true}
}
