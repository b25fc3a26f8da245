package netguard_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/netguard"
)

// fuzzResolver resolves every name without the network: names containing
// "internal" to a private address, the rest to a public one.
type fuzzResolver struct{}

func (fuzzResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if strings.Contains(host, "internal") {
		return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
}

// FuzzCheckURL: whatever a partner sends as an endpoint, CheckURL never
// panics, and what it accepts is an absolute http(s) URL without
// credentials or fragment, within the length limit, whose host is neither
// a refused address nor a name resolving to one; in production only https.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.fr/modupay", "http://127.0.0.1:8080/h", "https://user:pw@example.fr/", "https://example.fr/#x",
		"https://[::1]/", "https://169.254.169.254/latest", "https://internal.corp/", "https://ex%41mple.fr/", "https://example.fr:0/",
		"https://[fe80::1%25eth0]/", "https://0x7f.1/", "https://example.fr:65536/", "javascript:alert(1)", "//example.fr/", "https://é.fr/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range []netguard.Policy{production, sandbox} {
			u, err := p.CheckURL(context.Background(), fuzzResolver{}, raw)
			if err != nil {
				if err.Error() == "" {
					t.Fatalf("%q: an empty refusal", raw)
				}
				continue
			}
			if len(raw) > netguard.MaxURLLength || u.User != nil || strings.Contains(raw, "#") || u.Hostname() == "" {
				t.Fatalf("%q accepted: %+v", raw, u)
			}
			if u.Scheme != "https" && (u.Scheme != "http" || !p.AllowLoopback) {
				t.Fatalf("%q accepted with scheme %q (loopback allowed: %v)", raw, u.Scheme, p.AllowLoopback)
			}
			if strings.Contains(strings.ToLower(u.Hostname()), "internal") {
				t.Fatalf("%q accepted although its host resolves to a private address", raw)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && p.CheckAddr(a) != nil {
				t.Fatalf("%q accepted with the refused address %s", raw, a)
			}
		}
	})
}
