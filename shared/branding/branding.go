// Package branding is the white label: the name, logo and colour a payer
// sees on the hosted payment page, set by the partner and optionally
// overridden per organisation. ModuPay's own brand never appears.
package branding

import (
	"context"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// Branding is a partner's or an organisation's look. Empty fields inherit:
// organisation → partner → defaults.
type Branding struct {
	DisplayName  string `json:"display_name"`
	LogoURL      string `json:"logo_url"`
	PrimaryColor string `json:"primary_color"`
}

// DefaultColor is a neutral blue with enough contrast for white text (WCAG AA).
const DefaultColor = "#0B4F8A"

var hexColor = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// Validate checks a branding before it is stored. The colour is a strict
// #RRGGBB (it is written into the page's CSS) and the logo an https URL
// (the page's Content-Security-Policy allows https images only).
func (b *Branding) Validate() error {
	const op = "branding.validate"
	b.DisplayName, b.LogoURL, b.PrimaryColor = strings.TrimSpace(b.DisplayName), strings.TrimSpace(b.LogoURL), strings.ToUpper(strings.TrimSpace(b.PrimaryColor))
	if utf8.RuneCountInString(b.DisplayName) > 80 {
		return apperr.Field(op, "display_name", "display_name is at most 80 characters")
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(b.LogoURL) > 500 {
			return apperr.Field(op, "logo_url", "logo_url must be an https URL of at most 500 characters")
		}
	}
	if b.PrimaryColor != "" {
		if !hexColor.MatchString(b.PrimaryColor) {
			return apperr.Field(op, "primary_color", "primary_color must be a colour #RRGGBB")
		}
		if !readableOnWhiteText(b.PrimaryColor) {
			return apperr.Field(op, "primary_color", "primary_color is too light for white button text (contrast below 4.5:1)")
		}
	}
	return nil
}

// UsableColor says whether c can be written into the page's CSS as the
// brand colour: a #RRGGBB readable under white text.
func UsableColor(c string) bool {
	return hexColor.MatchString(c) && readableOnWhiteText(strings.ToUpper(c))
}

// Resolve is what the page shows: the organisation's fields over the
// partner's over the defaults (the partner's name for the display name).
func Resolve(partnerName string, partner, org Branding) Branding {
	out := Branding{DisplayName: partnerName, PrimaryColor: DefaultColor}
	for _, b := range []Branding{partner, org} {
		if b.DisplayName != "" {
			out.DisplayName = b.DisplayName
		}
		if b.LogoURL != "" {
			out.LogoURL = b.LogoURL
		}
		if b.PrimaryColor != "" {
			out.PrimaryColor = b.PrimaryColor
		}
	}
	return out
}

// readableOnWhiteText: WCAG contrast of white on the colour ≥ 4.5.
func readableOnWhiteText(hex string) bool {
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		var v int
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789ABCDEF", c)
		}
		s := float64(v) / 255
		if s <= 0.03928 {
			s /= 12.92
		} else {
			s = math.Pow((s+0.055)/1.055, 2.4)
		}
		lum += w * s
	}
	return (1.05)/(lum+0.05) >= 4.5
}

// Store keeps brandings: the partner's (orgID "") and organisations'.
type Store interface {
	// PutBranding writes a branding with its event; an organisation that is
	// not the partner's is NotFound.
	PutBranding(ctx context.Context, partnerID, orgID string, b Branding, ev event.Event) error
	// GetBranding reads one; absent is the zero Branding.
	GetBranding(ctx context.Context, partnerID, orgID string) (Branding, error)
}

// Service sets and reads brandings.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func(prefix string) string
}

// Put validates and stores a branding (branding.updated, audited).
func (s *Service) Put(ctx context.Context, partnerID, orgID string, actor event.Actor, b Branding) (Branding, error) {
	const op = "branding.put"
	if err := b.Validate(); err != nil {
		return Branding{}, err
	}
	resource := partnerID
	if orgID != "" {
		resource = orgID
	}
	before, err := s.Store.GetBranding(ctx, partnerID, orgID)
	if err != nil {
		return Branding{}, apperr.Wrap(op, err)
	}
	ev, err := event.New(s.NewID("evt"), "branding.updated", s.Now().UTC(), partnerID, orgID, actor,
		map[string]any{"branding": b},
		event.Change{ResourceType: "branding", ResourceID: resource, Action: "updated", Before: event.Snapshot(before), After: event.Snapshot(b)})
	if err != nil {
		return Branding{}, apperr.Wrap(op, err)
	}
	return b, apperr.Wrap(op, s.Store.PutBranding(ctx, partnerID, orgID, b, ev))
}

// Get reads a branding as set (not resolved).
func (s *Service) Get(ctx context.Context, partnerID, orgID string) (Branding, error) {
	b, err := s.Store.GetBranding(ctx, partnerID, orgID)
	return b, apperr.Wrap("branding.get", err)
}
