package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// cmdHealthcheck asks a running triagebot's /readyz (or /healthz with --live): the health
// check of images without a shell or curl (distroless). Exit 0 when it answers 200.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path := "/readyz"
	var rest []string
	for _, a := range args {
		if a == "--live" {
			path = "/healthz"
			continue
		}
		rest = append(rest, a)
	}
	s, err := parseSettings("healthcheck", rest, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(s.Listen)
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
	fmt.Fprintf(stdout, "%s", body)
	return nil
}
