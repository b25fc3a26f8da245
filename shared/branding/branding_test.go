package branding

import (
	"testing"

	"github.com/modupay/modupay/shared/apperr"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		in        Branding
		wantParam string
	}{
		{name: "empty inherits everything", in: Branding{}},
		{name: "full", in: Branding{DisplayName: "Ville de Lyon — Paiements", LogoURL: "https://cdn.lyon.fr/logo.png", PrimaryColor: "#b00020"}},
		{name: "default colour is readable", in: Branding{PrimaryColor: DefaultColor}},
		{name: "black is readable", in: Branding{PrimaryColor: "#000000"}},
		{name: "yellow is too light for white text", in: Branding{PrimaryColor: "#FFFF00"}, wantParam: "primary_color"},
		{name: "CSS injection refused", in: Branding{PrimaryColor: "red;}body{display:none"}, wantParam: "primary_color"},
		{name: "short colour refused", in: Branding{PrimaryColor: "#abc"}, wantParam: "primary_color"},
		{name: "http logo refused", in: Branding{LogoURL: "http://cdn.example/logo.png"}, wantParam: "logo_url"},
		{name: "javascript logo refused", in: Branding{LogoURL: "javascript:alert(1)"}, wantParam: "logo_url"},
		{name: "long name refused", in: Branding{DisplayName: string(make([]rune, 81))}, wantParam: "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.in
			err := b.Validate()
			if tt.wantParam == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if ae, ok := apperr.As(err); !ok || ae.Param != tt.wantParam {
				t.Fatalf("Validate() = %v, want an error on %s", err, tt.wantParam)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	got := Resolve("Acme", Branding{LogoURL: "https://a/l.png", PrimaryColor: "#112233"}, Branding{DisplayName: "Mairie", PrimaryColor: "#445566"})
	want := Branding{DisplayName: "Mairie", LogoURL: "https://a/l.png", PrimaryColor: "#445566"}
	if got != want {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
	if got := Resolve("Acme", Branding{}, Branding{}); got != (Branding{DisplayName: "Acme", PrimaryColor: DefaultColor}) {
		t.Errorf("defaults = %+v", got)
	}
}
