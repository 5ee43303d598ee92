package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// simServer is a simulator served on a loopback listener of this process.
type simServer struct {
	sim  *simulator.Server
	url  string // homeserver base URL, http://127.0.0.1:port
	host string // the same host:port, as an id_server
	stop func()
}

// startSim serves a simulator for cfg on a free loopback port. wrap, if not
// nil, puts a middleware in front of the simulator's handler (P4); without
// one the simulator serves itself (simulator.Serve).
func startSim(ctx context.Context, cfg simulator.Config, wrap func(http.Handler) http.Handler) (*simServer, error) {
	sim, err := simulator.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host := ln.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	if wrap == nil {
		go func() { defer close(done); _ = sim.Serve(sctx, ln) }()
	} else {
		srv := &http.Server{Handler: wrap(sim.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		go func() {
			defer close(done)
			<-sctx.Done()
			sim.Close()
			shut, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			if err := srv.Shutdown(shut); errors.Is(err, context.DeadlineExceeded) {
				_ = srv.Close()
			}
		}()
	}
	return &simServer{
		sim: sim, url: "http://" + host, host: host,
		stop: func() { cancel(); <-done },
	}, nil
}
