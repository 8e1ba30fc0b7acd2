package notify_test

import (
	"context"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/notify"
)

type executor struct{}

func (executor) Comment(ctx context.Context, n notify.Notification, body string) error { return nil }

// The wiring in cmd/triagebot: channels from TRIAGEBOT_CONFIG, the queue set up at start, one
// dispatcher per process beside the workers, and the workers enqueueing notify actions.
func Example() {
	ctx := context.Background()
	var js jetstream.JetStream // the queue's connection
	log := zap.NewNop()

	data, _ := os.ReadFile(os.Getenv("TRIAGEBOT_CONFIG"))
	channels, err := notify.ParseServerConfig(data) // or notify.ParseChannel(name, &ch.Node) per rules.Channel
	if err != nil {
		log.Fatal("TRIAGEBOT_CONFIG", zap.Error(err)) // one line per problem, with its line number
	}
	nq, err := notify.Setup(ctx, js, notify.Config{Channels: channels})
	if err != nil {
		log.Fatal("notify setup", zap.Error(err))
	}
	d, err := notify.NewDispatcher(nq, notify.WithLogger(log), notify.WithCommenter(executor{}))
	if err != nil {
		log.Fatal("notify dispatcher", zap.Error(err))
	}
	if err := d.Start(ctx); err != nil {
		log.Fatal("notify dispatcher", zap.Error(err))
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Stop(stopCtx)
	}()

	// In the worker, for a notify action (route issue_opened) and each channel of its route:
	_ = nq.Enqueue(ctx, notify.Notification{
		ID:      "72d4c3a0-delivery-id" + ".issue_opened." + "maintainers",
		Channel: "maintainers",
		Route:   "issue_opened",
		Repo:    "octo/repo",
		Number:  7,
		Title:   "Crash on start",
		URL:     "https://github.com/octo/repo/issues/7",
		Event:   "opened",
		Reason:  "a notification route asks for issue_opened",
		Text:    `New issue octo/repo#7 by @alice: "Crash on start"`,
	})
}
