package handlers_test

import (
	"os"
	"strconv"

	"github.com/triagebot/triagebot/queue"
)

// benchConsumeOptions are serve's on the embedded store: the sole consumer, holding
// TRIAGEBOT_BENCH_MAX_IN_FLIGHT events at once when set (else the default).
func benchConsumeOptions(observe func(queue.Outcome)) queue.ConsumeOptions {
	n, _ := strconv.Atoi(os.Getenv("TRIAGEBOT_BENCH_MAX_IN_FLIGHT"))
	return queue.ConsumeOptions{Observe: observe, Takeover: true, MaxInFlight: n}
}
