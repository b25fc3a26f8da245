package netguard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/netguard"
)

var (
	production = netguard.Policy{AllowLoopback: false}
	sandbox    = netguard.Policy{AllowLoopback: true}
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr       string
		production string // substring of the refusal, "" when allowed
		sandbox    string
	}{
		// Public addresses.
		{"93.184.216.34", "", ""},
		{"8.8.8.8", "", ""},
		{"1.1.1.1", "", ""},
		{"2606:4700:4700::1111", "", ""},
		{"2001:4860:4860::8888", "", ""},
		{"::ffff:8.8.8.8", "", ""},
		{"64:ff9b::808:808", "", ""}, // NAT64 of 8.8.8.8
		{"172.15.255.255", "", ""},
		{"172.32.0.0", "", ""},
		{"100.63.255.255", "", ""},
		{"100.128.0.0", "", ""},
		{"198.17.255.255", "", ""},
		{"198.20.0.0", "", ""},

		// Unspecified and "this network".
		{"0.0.0.0", "unspecified", "unspecified"},
		{"::", "unspecified", "unspecified"},
		{"0.1.2.3", `"this network"`, `"this network"`},

		// Loopback: the sandbox's one exception.
		{"127.0.0.1", "is a loopback address", ""},
		{"127.255.255.254", "loopback", ""},
		{"::1", "loopback", ""},
		{"::ffff:127.0.0.1", "loopback", ""},

		// Private.
		{"10.0.0.1", "10.0.0.1 is a private address", "private"},
		{"172.16.0.1", "private", "private"},
		{"172.31.255.255", "private", "private"},
		{"192.168.1.1", "private", "private"},
		{"fc00::1", "private", "private"},
		{"fd00:ec2::254", "private", "private"}, // AWS IMDS over IPv6
		{"::ffff:10.0.0.1", "private", "private"},
		{"::ffff:192.168.0.1", "private", "private"},

		// Link-local and cloud metadata.
		{"169.254.169.254", "link-local address (cloud metadata)", "link-local"},
		{"::ffff:169.254.169.254", "link-local", "link-local"},
		{"169.254.0.1", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"fe80::1%eth0", "zone", "zone"},
		{"100.64.0.1", "carrier-grade NAT", "carrier-grade NAT"},
		{"100.100.100.200", "carrier-grade NAT", "carrier-grade NAT"}, // Alibaba metadata
		{"100.127.255.255", "carrier-grade NAT", "carrier-grade NAT"},

		// Multicast, broadcast, reserved.
		{"224.0.0.1", "multicast", "multicast"},
		{"239.255.255.250", "multicast", "multicast"},
		{"ff02::1", "multicast", "multicast"},
		{"255.255.255.255", "broadcast", "broadcast"},
		{"240.0.0.1", "reserved", "reserved"},
		{"192.0.0.8", "IETF", "IETF"},
		{"198.18.0.1", "benchmarking", "benchmarking"},
		{"198.19.255.255", "benchmarking", "benchmarking"},

		// Documentation.
		{"192.0.2.1", "documentation", "documentation"},
		{"198.51.100.7", "documentation", "documentation"},
		{"203.0.113.9", "documentation", "documentation"},
		{"2001:db8::1", "documentation", "documentation"},

		// IPv6 forms embedding an IPv4 address.
		{"64:ff9b::a9fe:a9fe", "NAT64 address embedding 169.254.169.254", "NAT64"},
		{"64:ff9b::7f00:1", "NAT64 address embedding 127.0.0.1, a loopback address", ""},
		{"64:ff9b::a00:1", "NAT64", "NAT64"},
		{"2002:a00:1::1", "6to4 address embedding 10.0.0.1", "6to4"},
		{"2002:808:808::1", "", ""},
		{"::a00:1", "reserved", "reserved"}, // IPv4-compatible (deprecated)
		{"64:ff9b:1::a00:1", "reserved", "reserved"},
		{"100::1", "reserved", "reserved"},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		for _, c := range []struct {
			name   string
			policy netguard.Policy
			want   string
		}{{"production", production, tt.production}, {"sandbox", sandbox, tt.sandbox}} {
			err := c.policy.CheckAddr(a)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: CheckAddr(%s) = %v, want nil", c.name, tt.addr, err)
			case c.want != "" && err == nil:
				t.Errorf("%s: CheckAddr(%s) = nil, want an error containing %q", c.name, tt.addr, c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("%s: CheckAddr(%s) = %q, want it to contain %q", c.name, tt.addr, err, c.want)
			}
		}
	}
	if err := production.CheckAddr(netip.Addr{}); err == nil {
		t.Error("CheckAddr(zero Addr) = nil, want an error")
	}
}

// fakeResolver answers from a table and records the names asked for.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	asked   []string
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	f.asked = append(f.asked, host)
	f.mu.Unlock()
	host = strings.TrimSuffix(host, ".")
	if network != "ip" {
		return nil, errors.New("unexpected network " + network)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 2*time.Second {
		return nil, errors.New("lookup without a 2 s deadline")
	}
	switch host {
	case "slow.example.com":
		<-ctx.Done()
		return nil, ctx.Err()
	case "empty.example.com":
		return nil, nil
	}
	ips, ok := f.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ips {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func newResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][]string{
		"hooks.example.com":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"private.example.com":  {"10.1.2.3"},
		"mixed.example.com":    {"93.184.216.34", "192.168.0.10"},
		"mixed6.example.com":   {"2606:2800:220:1:248:1893:25c8:1946", "fd00:ec2::254"},
		"metadata.example.com": {"169.254.169.254"},
		"mapped.example.com":   {"::ffff:169.254.169.254"},
		"loop.example.com":     {"127.0.0.1"},
		"nat64.example.com":    {"64:ff9b::a9fe:a9fe"},
	}}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url        string
		production string // the refusal's message, or "" when accepted
		sandbox    string
		contains   bool // compare by substring instead of equality
	}{
		// Accepted.
		{url: "https://hooks.example.com/webhooks/modupay"},
		{url: "https://hooks.example.com:8443/path?x=1"},
		{url: "https://HOOKS.example.com./w"},
		{url: "https://93.184.216.34/hook"},
		{url: "https://[2606:4700:4700::1111]:443/hook"},

		// Scheme.
		{url: "http://hooks.example.com/hook", production: "must use https", sandbox: "must use https"},
		{url: "HTTP://hooks.example.com/hook", production: "must use https", sandbox: "must use https"},
		{url: "ftp://hooks.example.com/hook", production: "must use https", sandbox: "must use https"},
		{url: "javascript:alert(1)", production: "must use https", sandbox: "must use https"},
		{url: "//hooks.example.com/hook", production: "must be a valid absolute URL", sandbox: "must be a valid absolute URL"},
		{url: "/hook", production: "must be a valid absolute URL", sandbox: "must be a valid absolute URL"},
		{url: "https:hooks.example.com", production: "must be a valid absolute URL", sandbox: "must be a valid absolute URL"},
		{url: "https://hooks.example.com/\x7f", production: "must be a valid absolute URL", sandbox: "must be a valid absolute URL"},
		{url: "", production: "must not be empty", sandbox: "must not be empty"},
		{url: "https://hooks.example.com/" + strings.Repeat("a", 2048), production: "must be at most 2048 characters long", sandbox: "must be at most 2048 characters long"},

		// Loopback: http and https to it only in the sandbox.
		{url: "http://127.0.0.1:8080/hook", production: "127.0.0.1 is a loopback address", sandbox: ""},
		{url: "https://127.0.0.1:8443/hook", production: "127.0.0.1 is a loopback address", sandbox: ""},
		{url: "http://[::1]:8080/hook", production: "::1 is a loopback address", sandbox: ""},
		{url: "http://localhost:8080/hook", production: "localhost is a loopback host", sandbox: ""},
		{url: "http://LocalHost.:8080/hook", production: "localhost is a loopback host", sandbox: ""},
		{url: "http://api.localhost/hook", production: "api.localhost is a loopback host", sandbox: ""},
		{url: "https://loop.example.com/hook", production: "resolves to 127.0.0.1, a loopback address", sandbox: ""},
		{url: "http://loop.example.com/hook", production: "must use https", sandbox: "must use https"},

		// Credentials, fragments, host, port.
		{url: "https://user:pass@hooks.example.com/hook", production: "must not contain credentials", sandbox: "must not contain credentials"},
		{url: "https://user@hooks.example.com/hook", production: "must not contain credentials", sandbox: "must not contain credentials"},
		{url: "https://hooks.example.com/hook#frag", production: "must not contain a fragment", sandbox: "must not contain a fragment"},
		{url: "https://hooks.example.com/hook#", production: "must not contain a fragment", sandbox: "must not contain a fragment"},
		{url: "https:///hook", production: "must include a host", sandbox: "must include a host"},
		{url: "https://:443/hook", production: "must include a host", sandbox: "must include a host"},
		{url: "https://hooks.example.com:/hook", production: "must not have an empty port", sandbox: "must not have an empty port"},
		{url: "https://hooks.example.com:0/hook", production: "must have a port between 1 and 65535", sandbox: "must have a port between 1 and 65535"},
		{url: "https://hooks.example.com:65536/hook", production: "must have a port between 1 and 65535", sandbox: "must have a port between 1 and 65535"},
		{url: "https://hooks.example.com:65535/hook"},
		{url: "https://hooks_example.com!/hook", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://-bad.example.com/hook", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://a..example.com/hook", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://bücher.example/hook", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},

		// Odd numeric hosts that some resolvers read as IPv4 addresses.
		{url: "http://2130706433/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://2130706433/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://0x7f.0.0.1/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://0x7f000001/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://127.1/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://0177.0.0.1/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://169.254.169.254./", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://1.2.3.0x4/", production: "must be a domain name or a valid IP address", sandbox: "must be a domain name or a valid IP address"},
		{url: "https://[169.254.169.254]/", production: "must be a valid absolute URL", sandbox: "must be a valid absolute URL"},

		// Refused IP literals.
		{url: "http://169.254.169.254/latest/meta-data/", production: "169.254.169.254 is a link-local address (cloud metadata)", sandbox: "169.254.169.254 is a link-local address (cloud metadata)"},
		{url: "https://169.254.169.254/latest/meta-data/", production: "169.254.169.254 is a link-local address (cloud metadata)", sandbox: "169.254.169.254 is a link-local address (cloud metadata)"},
		{url: "https://[fd00:ec2::254]/latest/meta-data/", production: "fd00:ec2::254 is a private address", sandbox: "fd00:ec2::254 is a private address"},
		{url: "https://100.100.100.200/latest/meta-data/", production: "carrier-grade NAT", sandbox: "carrier-grade NAT", contains: true},
		{url: "http://10.0.0.1:8080/", production: "10.0.0.1 is a private address", sandbox: "10.0.0.1 is a private address"},
		{url: "https://[::ffff:a9fe:a9fe]/", production: "link-local", sandbox: "link-local", contains: true},
		{url: "https://[::ffff:10.0.0.1]/", production: "private", sandbox: "private", contains: true},
		{url: "https://[fe80::1%25eth0]/", production: "must not contain an IPv6 zone", sandbox: "must not contain an IPv6 zone"},
		{url: "https://0.0.0.0/", production: "0.0.0.0 is an unspecified address", sandbox: "0.0.0.0 is an unspecified address"},
		{url: "https://[::]/", production: ":: is an unspecified address", sandbox: ":: is an unspecified address"},

		// Names resolving to refused addresses.
		{url: "https://private.example.com/hook", production: "resolves to 10.1.2.3, a private address", sandbox: "resolves to 10.1.2.3, a private address"},
		{url: "https://mixed.example.com/hook", production: "resolves to 192.168.0.10, a private address", sandbox: "resolves to 192.168.0.10, a private address"},
		{url: "https://mixed6.example.com/hook", production: "resolves to fd00:ec2::254, a private address", sandbox: "resolves to fd00:ec2::254, a private address"},
		{url: "https://metadata.example.com/hook", production: "resolves to 169.254.169.254, a link-local address (cloud metadata)", sandbox: "resolves to 169.254.169.254, a link-local address (cloud metadata)"},
		{url: "https://mapped.example.com/hook", production: "resolves to 169.254.169.254, a link-local address (cloud metadata)", sandbox: "resolves to 169.254.169.254, a link-local address (cloud metadata)"},
		{url: "https://nat64.example.com/hook", production: "NAT64 address embedding 169.254.169.254", sandbox: "NAT64 address embedding 169.254.169.254", contains: true},

		// Names that do not resolve.
		{url: "https://nowhere.example.com/hook", production: "host does not resolve", sandbox: "host does not resolve"},
		{url: "https://empty.example.com/hook", production: "host does not resolve", sandbox: "host does not resolve"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name   string
			policy netguard.Policy
			want   string
		}{{"production", production, tt.production}, {"sandbox", sandbox, tt.sandbox}} {
			u, err := c.policy.CheckURL(context.Background(), newResolver(), tt.url)
			name := tt.url
			if len(name) > 80 {
				name = name[:80] + "..."
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: CheckURL(%q) = %q, want nil", c.name, name, err)
			case c.want == "" && u == nil:
				t.Errorf("%s: CheckURL(%q) returned a nil URL", c.name, name)
			case c.want != "" && err == nil:
				t.Errorf("%s: CheckURL(%q) = nil, want %q", c.name, name, c.want)
			case c.want != "" && tt.contains && !strings.Contains(err.Error(), c.want):
				t.Errorf("%s: CheckURL(%q) = %q, want it to contain %q", c.name, name, err, c.want)
			case c.want != "" && !tt.contains && err.Error() != c.want:
				t.Errorf("%s: CheckURL(%q) = %q, want %q", c.name, name, err, c.want)
			}
		}
	}
}

func TestCheckURLDoesNotResolveLoopbackOrLiterals(t *testing.T) {
	r := newResolver()
	for _, raw := range []string{
		"http://localhost:8080/hook",
		"http://api.localhost/hook",
		"http://127.0.0.1:8080/hook",
		"https://93.184.216.34/hook",
		"http://hooks.example.com/hook", // refused for its scheme before any lookup
	} {
		_, _ = sandbox.CheckURL(context.Background(), r, raw)
	}
	if len(r.asked) != 0 {
		t.Errorf("resolver asked for %q, want no lookups", r.asked)
	}
}

func TestCheckURLResolveTimeout(t *testing.T) {
	start := time.Now()
	_, err := production.CheckURL(context.Background(), newResolver(), "https://slow.example.com/hook")
	if err == nil || err.Error() != "host does not resolve" {
		t.Fatalf("CheckURL = %v, want host does not resolve", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("CheckURL took %v, want about 2 s", d)
	}
}

func TestClientRefusesLoopbackInProduction(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer srv.Close()

	client := production.Client(5 * time.Second)
	// srv.URL is an IP literal; the localhost form stands for a name that
	// passed validation and was re-pointed at a refused address afterwards
	// (DNS rebinding): the dialer sees the resolved address.
	for _, target := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := client.Get(target)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s succeeded, want a refusal", target)
		}
		if !netguard.IsRefused(err) {
			t.Errorf("GET %s: IsRefused(%v) = false, want true", target, err)
		}
		if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("GET %s: error %q does not name the category", target, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestClientAllowsLoopbackInSandbox(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	client := sandbox.Client(5 * time.Second)
	for i := 0; i < 2; i++ { // the second request reuses the kept-alive connection
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("GET = %d %q, want 200 ok", resp.StatusCode, body)
		}
	}
}

func TestClientTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.ServerName)
	}))
	defer srv.Close()

	client := sandbox.Client(5 * time.Second)
	tr := client.Transport.(*http.Transport)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig.RootCAs = pool
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS state = %+v, want TLS >= 1.2", resp.TLS)
	}

	// The same server under the production policy is refused at connect time.
	prod := production.Client(5 * time.Second)
	prod.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	if _, err := prod.Get(srv.URL); !netguard.IsRefused(err) {
		t.Errorf("production GET %s: err = %v, want a policy refusal", srv.URL, err)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
	}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()

	resp, err := sandbox.Client(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != target.URL+"/latest/meta-data/" {
		t.Errorf("Location = %q", loc)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target saw %d requests, want 0", n)
	}
}

func TestClientTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()

	start := time.Now()
	resp, err := sandbox.Client(200 * time.Millisecond).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET succeeded, want a timeout")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
	if netguard.IsRefused(err) {
		t.Errorf("IsRefused(%v) = true for a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("GET took %v, want about 200 ms", d)
	}
}

func TestIsRefusedIgnoresOrdinaryErrors(t *testing.T) {
	// A port nobody listens on: the peer's "connection refused" is a network
	// error, not a refusal by the policy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	_, err = sandbox.Client(2 * time.Second).Get("http://" + addr + "/")
	if err == nil {
		t.Fatal("GET to a closed port succeeded")
	}
	if netguard.IsRefused(err) {
		t.Errorf("IsRefused(%v) = true, want false", err)
	}
	if netguard.IsRefused(nil) {
		t.Error("IsRefused(nil) = true")
	}
	if netguard.IsRefused(errors.New("netguard: connection to 10.0.0.1 refused by policy")) {
		t.Error("IsRefused matched on the message alone")
	}
}

func TestClientConfiguration(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.invalid:3128")

	const timeout = 7 * time.Second
	client := production.Client(timeout)
	if client.Timeout != timeout {
		t.Errorf("Timeout = %v, want %v", client.Timeout, timeout)
	}
	if client.CheckRedirect == nil || client.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("CheckRedirect does not return http.ErrUseLastResponse")
	}
	tr, ok := client.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", client.Transport)
	}
	if tr.Proxy != nil {
		t.Error("Transport.Proxy is set, want no proxy")
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Error("TLS minimum version is below 1.2")
	}
	if tr.ResponseHeaderTimeout <= 0 || tr.ResponseHeaderTimeout > timeout {
		t.Errorf("ResponseHeaderTimeout = %v, want in (0, %v]", tr.ResponseHeaderTimeout, timeout)
	}
	if tr.DisableKeepAlives || tr.MaxIdleConnsPerHost <= 0 {
		t.Error("keep-alives disabled")
	}
	if c := production.Client(0); c.Timeout <= 0 {
		t.Errorf("Client(0).Timeout = %v, want a positive default", c.Timeout)
	}
}
