package webhookdispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/netguard"
)

// Each case makes a real failure on this machine (nothing leaves the
// loopback interface) and checks the line the delivery log gets.
func TestDescribeRealTransportErrors(t *testing.T) {
	loopback := netguard.Policy{AllowLoopback: true}.Client(2 * time.Second)
	cases := []struct {
		name string
		err  func(t *testing.T) error
		want string // the line, or its prefix when it ends with ": "
	}{
		{
			name: "a closed port",
			err: func(t *testing.T) error {
				return get(t, loopback, "http://"+closedPort(t)+"/hook")
			},
			want: "connection refused",
		},
		{
			name: "an .invalid name",
			err: func(t *testing.T) error {
				return get(t, nxdomainClient(t), "https://endpoint.invalid/hook")
			},
			want: "host does not resolve",
		},
		{
			name: "a self-signed certificate",
			err: func(t *testing.T) error {
				srv := httptest.NewTLSServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return get(t, loopback, srv.URL+"/hook")
			},
			want: "TLS error: ",
		},
		{
			name: "a certificate for another host",
			err: func(t *testing.T) error {
				srv := httptest.NewTLSServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				c := trusting(srv)
				c.Transport.(*http.Transport).TLSClientConfig.ServerName = "other.example"
				return get(t, c, srv.URL+"/hook")
			},
			want: "TLS error: ",
		},
		{
			name: "an endpoint that does not speak TLS",
			err: func(t *testing.T) error {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
						c.Close()
					}
				}()
				return get(t, loopback, "https://"+ln.Addr().String()+"/hook")
			},
			want: "TLS error: ",
		},
		{
			// net/http replaces the TLS record error with a message of its
			// own here: the log says what happened, as a network error.
			name: "an endpoint that answers HTTPS in plain HTTP",
			err: func(t *testing.T) error {
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return get(t, loopback, strings.Replace(srv.URL, "http://", "https://", 1)+"/hook")
			},
			want: "network error: server gave HTTP response to HTTPS client",
		},
		{
			name: "an endpoint that refuses the handshake with an alert",
			err: func(t *testing.T) error {
				srv := httptest.NewUnstartedServer(http.NotFoundHandler())
				srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
				srv.StartTLS()
				t.Cleanup(srv.Close)
				return get(t, trusting(srv), srv.URL+"/hook")
			},
			want: "TLS error: ",
		},
		{
			name: "a refused destination",
			err: func(t *testing.T) error {
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return get(t, netguard.Policy{}.Client(2*time.Second), srv.URL+"/hook")
			},
			want: "destination refused: ",
		},
		{
			name: "no answer within the timeout",
			err: func(t *testing.T) error {
				release := make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
				t.Cleanup(srv.Close)
				t.Cleanup(func() { close(release) })
				return get(t, netguard.Policy{AllowLoopback: true}.Client(100*time.Millisecond), srv.URL+"/hook")
			},
			want: "timeout: no complete response within the delivery timeout",
		},
		{
			name: "a connection closed without an answer",
			err: func(t *testing.T) error {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						c.Close()
					}
				}()
				return get(t, loopback, "http://"+ln.Addr().String()+"/hook")
			},
			want: "network error: ",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err(t)
			got := describe(err)
			t.Logf("%v → %q", err, got)
			if strings.HasSuffix(c.want, ": ") {
				if !strings.HasPrefix(got, c.want) || len(got) == len(c.want) {
					t.Errorf("describe(%v) = %q, want %q followed by the cause", err, got, c.want)
				}
				return
			}
			if got != c.want {
				t.Errorf("describe(%v) = %q, want %q", err, got, c.want)
			}
		})
	}
}

// The words that the old text matching looked for no longer decide
// anything: an error that merely says them is a network error.
func TestDescribeIgnoresLookalikeText(t *testing.T) {
	for text, want := range map[string]string{
		"proxy said connection refused": "network error: proxy said connection refused",
		"proxy said no such host":       "network error: proxy said no such host",
		"proxy said: tls: bad record":   "network error: bad record",
		"proxy said: x509: expired":     "network error: expired",
	} {
		if got := describe(errors.New(text)); got != want {
			t.Errorf("describe(%q) = %q, want %q", text, got, want)
		}
	}
}

func get(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	resp, err := c.Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s answered %d, want a transport error", url, resp.StatusCode)
	}
	return err
}

// closedPort is an address on which nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// trusting is a client that trusts srv's certificate.
func trusting(srv *httptest.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// nxdomainClient resolves names with a DNS server on the loopback interface
// that answers every question "no such name" (NXDOMAIN), as a real resolver
// does for .invalid (RFC 6761), so the test needs no network.
func nxdomainClient(t *testing.T) *http.Client {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			end := 12 // the question: labels up to the root, then type and class
			for end < n && buf[end] != 0 {
				end += int(buf[end]) + 1
			}
			end += 5
			if n < 12 || end > n {
				continue
			}
			resp := append([]byte{}, buf[:end]...)
			resp[2] = 0x80 | buf[2]&0x01 // a response; recursion desired as asked
			resp[3] = 0x80 | 3           // recursion available; NXDOMAIN
			copy(resp[6:12], []byte{0, 0, 0, 0, 0, 0})
			pc.WriteTo(resp, from)
		}
	}()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	dialer := &net.Dialer{Timeout: 2 * time.Second, Resolver: resolver}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
}
