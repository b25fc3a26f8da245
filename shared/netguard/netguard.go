// Package netguard keeps webhook deliveries from being turned against the
// service's own network (server-side request forgery, SSRF).
//
// A webhook endpoint is a URL chosen by a customer, and the service sends
// requests to it from inside its own network. Without a guard, an endpoint
// such as http://169.254.169.254/latest/meta-data/ (the cloud metadata
// service, which hands out the instance's credentials), http://10.0.0.12:9200/
// or http://localhost:8080/admin would make the service call its own
// infrastructure, and the delivery log would show the answer to the customer.
//
// The guard works at two points:
//
//   - When an endpoint is registered, [Policy.CheckURL] refuses URLs that are
//     not plain https URLs (credentials, fragments, odd numeric host forms such
//     as http://2130706433/ that some resolvers read as IP addresses), and
//     resolves the host, refusing it if any of its addresses is not a public
//     unicast address ([Policy.CheckAddr]).
//   - When a delivery is made, the [Policy.Client]'s dialer checks the address
//     it is actually connecting to, after DNS resolution. A checked name can be
//     pointed elsewhere afterwards (DNS rebinding: public at registration,
//     169.254.169.254 at delivery time); the check at connect time catches
//     this, and [IsRefused] tells such a refusal from an ordinary network error.
//
// The client never follows redirects (a public endpoint answering
// "302 Location: http://169.254.169.254/" would otherwise bypass the
// registration check) and ignores the HTTP(S)_PROXY environment variables (a
// proxy would connect on our behalf, out of reach of the dialer's check).
//
// Loopback destinations are admitted only when [Policy.AllowLoopback] is set,
// for the sandbox and local stacks; private, link-local (metadata), shared
// (CGNAT) and reserved addresses are refused under every policy.
package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Policy says which destinations are acceptable.
type Policy struct {
	// AllowLoopback admits loopback destinations (127.0.0.0/8, ::1,
	// "localhost") and plain http to them. True in the sandbox and local
	// stacks, false in production.
	AllowLoopback bool
}

// Resolver is the DNS lookup used at validation time (net.DefaultResolver
// satisfies it; tests inject fakes).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// MaxURLLength is the longest endpoint URL CheckURL accepts.
const MaxURLLength = 2048

// resolveTimeout bounds the DNS lookup made by CheckURL.
const resolveTimeout = 2 * time.Second

// defaultTimeout replaces a non-positive timeout given to Client.
const defaultTimeout = 10 * time.Second

// A block is a refused range and the category named in messages.
type block struct {
	prefix netip.Prefix
	reason string
}

const (
	reasonLoopback = "a loopback address"
	reasonPrivate  = "a private address"
)

// ipv4Blocks are checked in order; the first match names the category, so
// narrower ranges come before the ranges containing them.
var ipv4Blocks = []block{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("10.0.0.0/8"), reasonPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address (cloud metadata)"},
	{netip.MustParsePrefix("127.0.0.0/8"), reasonLoopback},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), reasonPrivate},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.168.0.0/16"), reasonPrivate},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "a broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
}

var ipv6Blocks = []block{
	{netip.MustParsePrefix("::1/128"), reasonLoopback},
	{netip.MustParsePrefix("fc00::/7"), reasonPrivate}, // unique local; includes AWS's fd00:ec2::254
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
}

var (
	// nat64 (RFC 6052) carries an IPv4 address in its last 32 bits; a NAT64
	// gateway would connect to it, so it is judged by that address.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour (RFC 3056) carries an IPv4 address in bits 16-47.
	sixToFour = netip.MustParsePrefix("2002::/16")
	// globalUnicast is the only IPv6 range handed out for public use; the
	// rest (IPv4-compatible ::/96, local-use NAT64 64:ff9b:1::/48, discard
	// 100::/64, ...) is refused wholesale.
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// CheckAddr says whether one IP address may be contacted: nil, or an error
// whose message says why (e.g. "10.0.0.1 is a private address").
func (p Policy) CheckAddr(a netip.Addr) error {
	if reason := p.refusal(a); reason != "" {
		return fmt.Errorf("%s is %s", a, reason)
	}
	return nil
}

// refusal is the category of a refused address, or "" when it may be
// contacted.
func (p Policy) refusal(a netip.Addr) string {
	if !a.IsValid() {
		return "not a valid IP address"
	}
	if a.Zone() != "" {
		return "an address with an IPv6 zone"
	}
	a = a.Unmap()
	if a.IsUnspecified() {
		return "an unspecified address"
	}
	if a.Is4() {
		for _, b := range ipv4Blocks {
			if b.prefix.Contains(a) {
				if b.reason == reasonLoopback && p.AllowLoopback {
					return ""
				}
				return b.reason
			}
		}
		return ""
	}
	for _, b := range ipv6Blocks {
		if b.prefix.Contains(a) {
			if b.reason == reasonLoopback && p.AllowLoopback {
				return ""
			}
			return b.reason
		}
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		v4 := netip.AddrFrom4([4]byte(b[12:16]))
		if reason := p.refusal(v4); reason != "" {
			return fmt.Sprintf("a NAT64 address embedding %s, %s", v4, reason)
		}
		return ""
	case sixToFour.Contains(a):
		v4 := netip.AddrFrom4([4]byte(b[2:6]))
		if reason := p.refusal(v4); reason != "" {
			return fmt.Sprintf("a 6to4 address embedding %s, %s", v4, reason)
		}
		return ""
	case !globalUnicast.Contains(a):
		return "a reserved address"
	}
	return ""
}

// CheckURL validates an endpoint URL given by a customer and resolves its
// host, refusing it if any resolved address is refused by CheckAddr. The
// returned error's message is meant for the API user (one sentence, no Go
// error chains), e.g. "must use https", "must not contain credentials",
// "resolves to 169.254.169.254, a link-local address (cloud metadata)",
// "host does not resolve". A nil r means net.DefaultResolver.
func (p Policy) CheckURL(ctx context.Context, r Resolver, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("must not be empty")
	}
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("must be at most %d characters long", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, errors.New("must be a valid absolute URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.New("must use https")
	}
	if u.Opaque != "" {
		return nil, errors.New("must be a valid absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("must not contain credentials")
	}
	// url.Parse cuts at the first '#', so any '#' starts a fragment, even an
	// empty one.
	if strings.Contains(raw, "#") {
		return nil, errors.New("must not contain a fragment")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("must include a host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("must not have an empty port")
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("must have a port between 1 and 65535")
		}
	}

	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, "%") {
		return nil, errors.New("must not contain an IPv6 zone")
	}

	loopback := false
	var resolve bool
	if a, err := netip.ParseAddr(host); err == nil {
		if strings.HasPrefix(u.Host, "[") != a.Is6() {
			return nil, errors.New("must be a domain name or a valid IP address")
		}
		if err := p.CheckAddr(a); err != nil {
			return nil, err
		}
		loopback = a.Unmap().IsLoopback()
	} else {
		name := strings.TrimSuffix(host, ".")
		if !validHostname(name) {
			return nil, errors.New("must be a domain name or a valid IP address")
		}
		if name == "localhost" || strings.HasSuffix(name, ".localhost") {
			if !p.AllowLoopback {
				return nil, fmt.Errorf("%s is a loopback host", name)
			}
			loopback = true
		} else {
			resolve = true
		}
	}

	if u.Scheme == "http" && !(p.AllowLoopback && loopback) {
		return nil, errors.New("must use https")
	}

	if resolve {
		if r == nil {
			r = net.DefaultResolver
		}
		lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		addrs, err := r.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return nil, errors.New("host does not resolve")
		}
		for _, a := range addrs {
			if reason := p.refusal(a); reason != "" {
				return nil, fmt.Errorf("resolves to %s, %s", a.Unmap(), reason)
			}
		}
	}
	return u, nil
}

// validHostname reports whether h (lower case, without a trailing dot) is an
// ASCII domain name that no resolver could read as an IPv4 address: digits
// and 0x-hex forms such as 2130706433, 127.1, 0x7f.0.0.1 or 0x7f000001 are
// refused, since a real top-level domain is never numeric.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return !allDigits(last) && !isHexNumber(last) && !isHexNumber(labels[0])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isHexNumber reports whether s reads as a C hex literal ("0x", "0x7f").
func isHexNumber(s string) bool {
	if !strings.HasPrefix(s, "0x") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// refusedError is what the dialer's Control returns for a destination the
// policy refuses.
type refusedError struct {
	addr   string
	reason string
}

func (e *refusedError) Error() string {
	return "netguard: connection to " + e.addr + " refused by policy: " + e.reason
}

// control runs after DNS resolution, just before connect(2), with the
// address actually being connected to.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return &refusedError{addr: address, reason: "network " + network + " is not allowed"}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedError{addr: address, reason: "not an IP address and port"}
	}
	if reason := p.refusal(ap.Addr()); reason != "" {
		return &refusedError{addr: ap.Addr().String(), reason: reason}
	}
	return nil
}

// Client returns an *http.Client for deliveries: total timeout `timeout` (a
// non-positive value means 10 s); no proxy (HTTP(S)_PROXY are ignored);
// redirects never followed (the 3xx response is returned as is); TLS >= 1.2;
// and a dialer that re-checks, with CheckAddr, the IP address actually being
// connected to, so a name re-pointed to a refused address after validation
// (DNS rebinding) is refused at connect time (see IsRefused).
//
// Each call builds its own connection pool: build the client once and share
// it.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	dialer := &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Control:   p.control,
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// IsRefused reports whether err (as returned by Client().Do) was a
// connection refused by the policy, so the caller can record "destination
// refused by policy" rather than a generic network error. An ordinary
// "connection refused" from the peer is not a refusal by the policy.
func IsRefused(err error) bool {
	var re *refusedError
	return errors.As(err, &re)
}
