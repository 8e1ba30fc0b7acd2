package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
	"github.com/triagebot/triagebot/queue"
)

// local is the whole bot on one machine against the in-memory GitHub, wired over real HTTP:
// ghfake (under a GitHub Enterprise Server-style /api/v3/ prefix) sends signed webhooks to the
// receiver, which stores them in the embedded JetStream; the workers act on ghfake through
// installation tokens. `triagebot demo` and the end-to-end tests run on it.
type local struct {
	Fake    *ghfake.Server
	App     *app
	fakeSrv *httptest.Server
	// what the bot was started with, for Restart
	settings settings
	opts     startOptions
	log      *zap.Logger
	addr     string
}

type localConfig struct {
	Dir      string // data directory and the App key file
	Log      *zap.Logger
	Fake     []ghfake.Option
	Settings func(*settings)
	Start    startOptions
}

func startLocal(ctx context.Context, cfg localConfig) (_ *local, err error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	l := &local{}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	l.Fake = ghfake.New(append([]ghfake.Option{ghfake.WithPrefix("/api/v3/")}, cfg.Fake...)...)
	l.fakeSrv = httptest.NewUnstartedServer(l.Fake)
	l.fakeSrv.Config.ConnState = l.Fake.ConnState
	l.fakeSrv.Start()

	keyFile := filepath.Join(cfg.Dir, "app-key.pem")
	if err := os.WriteFile(keyFile, l.Fake.PrivateKeyPEM(), 0o600); err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = "127.0.0.1:0"
	s.DataDir = filepath.Join(cfg.Dir, "data")
	s.Secrets = []string{hex.EncodeToString(secret)}
	s.AppID = l.Fake.AppID()
	s.PrivateKeyFile = keyFile
	s.GitHubURL = l.fakeSrv.URL + "/api/v3/"
	s.ShutdownTimeout = 5 * time.Second
	if cfg.Settings != nil {
		cfg.Settings(&s)
	}
	opts := cfg.Start
	// ghfake has no GET /app; the bot login is known. One machine, one GitHub: no need to pace
	// writes at GitHub's 80 a minute.
	opts.ghapp = append([]ghapp.Option{ghapp.WithBotLogin(l.Fake.BotLogin()), ghapp.WithWriteRate(60000, 1000)}, opts.ghapp...)
	l.settings, l.opts, l.log = s, opts, cfg.Log
	if l.App, err = start(ctx, "serve", s, cfg.Log, opts); err != nil {
		return nil, err
	}
	l.Fake.SetWebhook("http://"+l.App.addr+"/webhook", s.Secrets[0])
	return l, nil
}

// Restart stops the bot (gracefully) unless it is stopped, and starts it again on the same
// data directory and address, as an operator's restart of serve does.
func (l *local) Restart(ctx context.Context) error {
	if err := l.Stop(); err != nil {
		return err
	}
	s := l.settings
	s.Listen = l.addr // GitHub keeps the webhook URL it was given
	a, err := start(ctx, "serve", s, l.log, l.opts)
	if err != nil {
		return err
	}
	l.App = a
	return nil
}

// Stop stops the bot (gracefully), keeping its address and data for Restart: GitHub's
// deliveries fail meanwhile, as they do while a real bot is down.
func (l *local) Stop() error {
	if l.App == nil {
		return nil
	}
	l.addr = l.App.addr
	err := l.App.shutdown()
	l.App = nil
	return err
}

// Settle waits until every webhook GitHub queued was delivered and every stored event handled,
// including the webhooks the bot's own changes caused.
func (l *local) Settle(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := l.Fake.Flush(ctx); err != nil {
			return fmt.Errorf("deliver webhooks: %w", err)
		}
		before := len(l.Fake.Deliveries())
		n, err := l.pending(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			if err := l.Fake.Flush(ctx); err != nil {
				return err
			}
			if len(l.Fake.Deliveries()) == before {
				if n, err = l.pending(ctx); err == nil && n == 0 {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle: %d events still stored: %w", n, ctx.Err())
		case <-tick.C:
		}
	}
}

// pending is the number of events stored and not yet acknowledged.
func (l *local) pending(ctx context.Context) (uint64, error) {
	st, err := l.App.q.JetStream().Stream(ctx, queue.EventStream)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// Close stops the bot, then the in-memory GitHub.
func (l *local) Close() error {
	var errs []error
	if l.App != nil {
		errs = append(errs, l.App.shutdown())
		l.App = nil
	}
	if l.fakeSrv != nil {
		l.fakeSrv.Close()
	}
	if l.Fake != nil {
		l.Fake.Close()
	}
	return errors.Join(errs...)
}
