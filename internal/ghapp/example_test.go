package ghapp_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// The wiring cmd/triagebot does: one App, and over it the executor, the configuration loader
// (on the queue's configuration bucket) and the rules' lookups.
func Example() {
	ctx := context.Background()
	log := zap.NewNop()
	key, err := os.ReadFile(os.Getenv("TRIAGEBOT_PRIVATE_KEY_FILE"))
	if err != nil {
		return
	}
	app, err := ghapp.New(ghapp.Config{AppID: 12345, PrivateKeyPEM: key, BaseURL: "https://ghe.example.com/api/v3/", Logger: log})
	if err != nil {
		return
	}
	defer app.Close()
	var configBucket jetstream.KeyValue // queue.(*Queue).ConfigBucket()
	loader, err := ghapp.NewConfigLoader(app, configBucket, rules.DefaultConfig(), ghapp.WithConfigLogger(log))
	if err != nil {
		return
	}
	lookups, _ := ghapp.NewLookups(app, ghapp.WithLookupLogger(log))
	exec := ghapp.NewExecutor(app, log)
	bot, _ := app.BotLogin(ctx)

	t := rules.Target{DeliveryID: "…", InstallationID: 1, RepoID: 2, Owner: "octo", Name: "hello", Number: 3}
	cfg, _ := loader.Config(ctx, t)
	_ = lookups.For(t) // rules.Input.Lookup
	_ = bot            // rules.Input.BotLogin
	_, err = exec.Execute(ctx, t, []rules.Action{{Rule: rules.RuleNeedsTriage, Type: rules.AddLabels, Labels: []string{cfg.NeedsTriage.Label}}})
	var limited *ghapp.RetryAfterError
	switch {
	case errors.As(err, &limited):
		fmt.Println("NakWithDelay", limited.RetryAfter()) // or queue.RetryAfter(err)
	case queue.IsPermanent(err):
		fmt.Println("dead-letter")
	case err != nil:
		fmt.Println("retry with backoff")
	}
}
