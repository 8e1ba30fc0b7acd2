package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheckCmd asks a running triagebot's /readyz (or /healthz with --live): the health check
// of images without a shell or curl (distroless). Exit 0 when it answers 200.
type healthcheckCmd struct {
	Listen string `env:"TRIAGEBOT_LISTEN" default:":8080" help:"The address triagebot listens on."`
	Live   bool   `help:"Ask /healthz (alive) instead of /readyz (ready)."`
}

func (c *healthcheckCmd) Run(ctx context.Context, o streams) error {
	path := "/readyz"
	if c.Live {
		path = "/healthz"
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_LISTEN: %q is not host:port", c.Listen))
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return withExit(2, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return withExit(1, fmt.Errorf("healthcheck: %w", err))
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusOK {
		return withExit(1, fmt.Errorf("healthcheck: %s answered %d: %s", path, res.StatusCode, strings.TrimSpace(string(body))))
	}
	fmt.Fprintf(o.stdout, "%s", body)
	return nil
}
