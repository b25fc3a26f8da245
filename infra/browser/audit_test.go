package browser

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/modupay/modupay/infra/engines"
)

// Budgets of every page the payer sees (issue: a Lighthouse-style budget).
const (
	pageWeightBudget = 100 << 10 // bytes over the wire, all resources of the page
	// The widths every page is looked at: a small phone and a desktop.
	narrowWidth, wideWidth = 360, 1280
)

// screenshotDir is where the test writes its screenshots for review:
// $MODUPAY_SCREENSHOTS, else .artifacts/screenshots at the repository's root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MODUPAY_SCREENSHOTS")
	if dir == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// network records what the page requests and what it weighs, from the
// browser's own network events.
type netLog struct {
	mu    sync.Mutex
	urls  map[network.RequestID]string
	bytes map[network.RequestID]float64
}

func watchNetwork(ctx context.Context) *netLog {
	n := &netLog{urls: map[network.RequestID]string{}, bytes: map[network.RequestID]float64{}}
	sent := chromedp.Events(ctx, network.RequestWillBeSent)
	done := chromedp.Events(ctx, network.LoadingFinished)
	go func() {
		for ev, err := range sent {
			if err != nil {
				return
			}
			n.mu.Lock()
			n.urls[ev.RequestID] = ev.Request.URL
			n.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range done {
			if err != nil {
				return
			}
			n.mu.Lock()
			n.bytes[ev.RequestID] += ev.EncodedDataLength
			n.mu.Unlock()
		}
	}()
	return n
}

// reset forgets what was seen (before the navigation to measure).
func (n *netLog) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.urls)
	clear(n.bytes)
}

// since is what was requested since the last reset and its total weight.
func (n *netLog) since() (urls []string, total float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, u := range n.urls {
		urls = append(urls, u)
		total += n.bytes[id]
	}
	return urls, total
}

// axeViolation is one rule axe-core reports as broken on the page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// auditor checks a page as it is in the browser now: axe-core's rules (no
// serious or critical violation), the page's weight and origins, and
// screenshots at both widths.
type auditor struct {
	t      *testing.T
	ctx    context.Context
	axe    string
	net    *netLog
	shots  string
	origin string
	fail   func(format string, args ...any)
	width  int64 // the browser's usual width, restored after the shots
}

func newAuditor(t *testing.T, ctx context.Context, origin string, net *netLog, fail func(string, ...any)) *auditor {
	t.Helper()
	src, err := engines.EnsureAxe(context.Background())
	if err != nil {
		t.Fatalf("axe-core for the accessibility audit: %v", err)
	}
	return &auditor{t: t, ctx: ctx, axe: string(src), net: net, shots: screenshotDir(t), origin: origin, fail: fail, width: 1024}
}

// check audits the current page under name (screenshots name-360.png and
// name-1280.png). weigh: the page was loaded since the network log's reset,
// so its requests and weight are the page's own.
func (a *auditor) check(name string, weigh bool) {
	a.t.Helper()
	if weigh {
		// Let the last responses finish before counting.
		time.Sleep(300 * time.Millisecond)
		urls, total := a.net.since()
		if len(urls) == 0 {
			a.fail("%s: the network log saw no request for the page", name)
		}
		for _, u := range urls {
			if strings.HasPrefix(u, "data:") {
				continue
			}
			pu, err := url.Parse(u)
			if err != nil || pu.Scheme+"://"+pu.Host != a.origin {
				a.fail("%s: request to %s, outside the page's origin %s (no third party)", name, u, a.origin)
			}
		}
		if total > pageWeightBudget {
			a.fail("%s: the page weighs %.0f bytes over the wire, budget %d", name, total, pageWeightBudget)
		}
		a.t.Logf("%s: %d request(s), %.1f KB over the wire", name, len(urls), total/1024)
	}
	for _, w := range []int64{narrowWidth, wideWidth} {
		if err := chromedp.Do(a.ctx, chromedp.EmulateViewport(w, 800)); err != nil {
			a.fail("%s: viewport %d: %v", name, w, err)
		}
		// Nothing may overflow sideways at this width.
		over, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if err != nil || over {
			a.fail("%s: the page is wider than %d px (scrolls sideways): %v", name, w, err)
		}
		a.violations(fmt.Sprintf("%s at %d px", name, w))
		shot, err := chromedp.Run(a.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			a.fail("%s: screenshot: %v", name, err)
		}
		file := filepath.Join(a.shots, fmt.Sprintf("%s-%d.png", name, w))
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			a.t.Fatal(err)
		}
		a.t.Logf("screenshot %s", file)
	}
	if err := chromedp.Do(a.ctx, chromedp.EmulateViewport(a.width, 900)); err != nil {
		a.fail("%s: viewport back: %v", name, err)
	}
}

// violations runs axe-core in the page and fails on any serious or critical
// violation.
func (a *auditor) violations(where string) {
	a.t.Helper()
	loaded, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		a.fail("%s: %v", where, err)
	}
	if !loaded {
		// Evaluated through the DevTools protocol, outside the page's
		// Content-Security-Policy (which allows no such script).
		if _, err := chromedp.Run(a.ctx, chromedp.Evaluate[any](a.axe+"\n;0")); err != nil {
			a.fail("%s: load axe-core: %v", where, err)
		}
	}
	vs, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		a.fail("%s: run axe-core: %v", where, err)
	}
	var bad []string
	for _, v := range vs {
		line := fmt.Sprintf("%s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			line += fmt.Sprintf("\n      %v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			a.t.Logf("%s: axe-core (minor/moderate, not a failure): %s", where, line)
		}
	}
	if len(bad) > 0 {
		a.fail("%s: axe-core finds %d serious or critical violation(s):\n  %s", where, len(bad), strings.Join(bad, "\n  "))
	}
}

// focusByTab presses Tab until the focused element's text (or value) is
// want, as a keyboard user does; it fails after limit presses.
func focusByTab(ctx context.Context, want string, limit int) error {
	for i := 0; i < limit; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return err
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e ? (e.innerText || e.value || "").trim() : ""; })()`))
		if err != nil {
			return err
		}
		if got == want {
			return nil
		}
	}
	return fmt.Errorf("%q not reached after %d Tab presses", want, limit)
}
