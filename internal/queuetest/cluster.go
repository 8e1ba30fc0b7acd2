package queuetest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of nats-servers in this process, on loopback ports, each
// node storing in its own temporary directory. Nodes can be stopped and started again on the
// same ports and storage, as an operator's restart of one node would.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes []*clusterNode
}

type clusterNode struct {
	name        string
	dir         string
	port, route int
	routes      []string
	srv         *server.Server // nil while stopped
}

// StartCluster starts n nodes and waits until JetStream has a meta leader. They are shut down
// when the test ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	var routes []string
	for i := range n {
		node := &clusterNode{name: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), port: freePort(t), route: freePort(t)}
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", node.route))
		c.nodes = append(c.nodes, node)
	}
	for _, node := range c.nodes {
		node.routes = routes
	}
	t.Cleanup(c.Shutdown)
	for i := range c.nodes {
		c.Start(i)
	}
	c.waitMetaLeader()
	return c
}

// freePort is a loopback port free now (ports are fixed up front: a restarted node needs the
// same ones).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts node i (again).
func (c *Cluster) Start(i int) {
	c.t.Helper()
	node := c.nodes[i]
	opts := &server.Options{
		ServerName: node.name,
		Host:       "127.0.0.1",
		Port:       node.port,
		JetStream:  true,
		StoreDir:   node.dir,
		MaxPayload: 32 << 20,
		NoSigs:     true,
		NoLog:      true,
		Cluster:    server.ClusterOpts{Name: "triagebot-test", Host: "127.0.0.1", Port: node.route},
		Routes:     server.RoutesFromStr(strings.Join(node.routes, ",")),
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		c.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("node %s not ready", node.name)
	}
	c.mu.Lock()
	node.srv = srv
	c.mu.Unlock()
}

// Stop shuts node i down.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	srv := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.nodes {
		c.Stop(i)
	}
}

// URLs are the client URLs of every node, comma-separated (TRIAGEBOT_NATS_URL).
func (c *Cluster) URLs() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", n.port))
	}
	return strings.Join(urls, ",")
}

// Index is the index of the node named name (-1: none).
func (c *Cluster) Index(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

func (c *Cluster) waitMetaLeader() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, n := range c.nodes {
			if n.srv != nil && n.srv.JetStreamIsLeader() {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // polling the cluster's state, with a deadline
	}
	c.t.Fatal("no JetStream meta leader within 20s")
}
