package main

import (
	"io"
	"net"
	"net/http"
	"time"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
)

// serveBaseline serves the floor any receiver is compared with: read the body, verify the
// HMAC, answer 202; nothing stored. It listens on addr ("127.0.0.1:0": any free port) and
// returns how to stop it and its address.
func serveBaseline(secret, addr string) (stop func(), _ string, _ error) {
	secrets := [][]byte{[]byte(secret)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, queue.MaxBody+1))
		if !handlers.ValidSignature(r.Header.Get("X-Hub-Signature-256"), body, secrets...) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() { _ = srv.Close(); <-done }, ln.Addr().String(), nil
}
