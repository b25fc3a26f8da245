package organization

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/validation"
)

func valid() CreateInput {
	// Ville de Paris: a real SIRET and VAT number that pass their checks.
	return CreateInput{Type: "public_entity", Name: "Mairie de Paris", SIRET: "21750001600019", VATNumber: "FR72217500016",
		Address: &Address{Line1: "Place de l'Hôtel de Ville", PostalCode: "75004", City: "Paris", Country: "FR"}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*CreateInput)
		wantParam string // "" = valid
	}{
		{name: "valid public entity", mutate: func(*CreateInput) {}},
		{name: "seed sample SIRET fails Luhn in production", mutate: func(in *CreateInput) { in.SIRET, in.VATNumber = "21690123400019", "" }, wantParam: "siret"},
		{name: "company without VAT", mutate: func(in *CreateInput) { in.Type, in.SIRET, in.VATNumber = "company", "55208131700018", "" }},
		{name: "company with VAT", mutate: func(in *CreateInput) { in.Type, in.SIRET, in.VATNumber = "company", "55208131700018", "FR03552081317" }},
		{name: "spaces in identifiers are removed", mutate: func(in *CreateInput) { in.SIRET, in.VATNumber = "217 500 016 00019", "fr 72 217500016" }},
		{name: "VAT key wrong", mutate: func(in *CreateInput) { in.VATNumber = "FR73217500016" }, wantParam: "vat_number"},
		{name: "lower-case country", mutate: func(in *CreateInput) { in.Address.Country = "fr" }},
		{name: "foreign address, non-French postal code", mutate: func(in *CreateInput) { in.Address.Country, in.Address.PostalCode = "BE", "1000" }},
		{name: "unknown type", mutate: func(in *CreateInput) { in.Type = "association" }, wantParam: "type"},
		{name: "blank name", mutate: func(in *CreateInput) { in.Name = "   " }, wantParam: "name"},
		{name: "200 accented characters is fine", mutate: func(in *CreateInput) { in.Name = strings.Repeat("é", 200) }},
		{name: "201 characters", mutate: func(in *CreateInput) { in.Name = strings.Repeat("a", 201) }, wantParam: "name"},
		{name: "SIRET of 13 digits", mutate: func(in *CreateInput) { in.SIRET = "2169012340001" }, wantParam: "siret"},
		{name: "SIRET with a letter", mutate: func(in *CreateInput) { in.SIRET = "2169012340001A" }, wantParam: "siret"},
		{name: "VAT of another SIREN", mutate: func(in *CreateInput) { in.VATNumber = "FR03552081317" }, wantParam: "vat_number"},
		{name: "VAT not French", mutate: func(in *CreateInput) { in.VATNumber = "DE123456789" }, wantParam: "vat_number"},
		// The guide's SDK sample: type, name, SIRET (Requirements then names the address).
		{name: "no address", mutate: func(in *CreateInput) { in.Address = nil }},
		{name: "no line1", mutate: func(in *CreateInput) { in.Address.Line1 = "" }, wantParam: "address.line1"},
		{name: "no city", mutate: func(in *CreateInput) { in.Address.City = "" }, wantParam: "address.city"},
		{name: "French postal code of 4 digits", mutate: func(in *CreateInput) { in.Address.PostalCode = "6900" }, wantParam: "address.postal_code"},
		{name: "country name instead of code", mutate: func(in *CreateInput) { in.Address.Country = "France" }, wantParam: "address.country"},
		{name: "foreign address without postal code", mutate: func(in *CreateInput) { in.Address.Country, in.Address.PostalCode = "BE", "" }, wantParam: "address.postal_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.mutate(&in)
			err := in.Validate(&validation.Collector{Mode: validation.Mode{Strict: true}})
			if tt.wantParam == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.Invalid {
				t.Fatalf("Validate() = %v, want a validation error on %s", err, tt.wantParam)
			}
			if got, want := ae.Param, tt.wantParam; got != want {
				t.Errorf("param = %q, want %q", got, want)
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	in := valid()
	in.SIRET, in.VATNumber, in.Address.Country = " 217 500 016 00019 ", "fr72217500016", "fr"
	if err := in.Validate(&validation.Collector{Mode: validation.Mode{Strict: true}}); err != nil {
		t.Fatal(err)
	}
	if in.SIRET != "21750001600019" || in.VATNumber != "FR72217500016" || in.Address.Country != "FR" {
		t.Errorf("normalised to %q %q %q", in.SIRET, in.VATNumber, in.Address.Country)
	}
}

// The sandbox accepts the integration guide's sample organisation, whose SIRET
// and VAT number fail their checksums, and says so; production refuses it.
func TestSeedSampleByStage(t *testing.T) {
	seed := func() CreateInput {
		return CreateInput{Type: "public_entity", Name: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
			Address: &Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}}
	}
	sandbox := &validation.Collector{}
	in := seed()
	if err := in.Validate(sandbox); err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	var params []string
	for _, w := range sandbox.Warnings {
		params = append(params, w.Param+":"+w.Code)
	}
	if got, want := strings.Join(params, ","), "siret:checksum_failed,vat_number:checksum_failed"; got != want {
		t.Errorf("sandbox warnings = %s, want %s", got, want)
	}
	in = seed()
	err := in.Validate(&validation.Collector{Mode: validation.Mode{Strict: true}})
	if ae, ok := apperr.As(err); !ok || ae.Param != "siret" {
		t.Errorf("production: %v, want a 422 on siret", err)
	}
	// A format error is refused in the sandbox too.
	in = seed()
	in.SIRET = "2169012340001"
	if err := in.Validate(&validation.Collector{}); err == nil {
		t.Error("sandbox accepted a 13-digit SIRET")
	}
}

// What an organisation lacks for invoicing is named in its JSON, and
// disappears once set.
func TestRequirements(t *testing.T) {
	o := Organization{ID: "org-1", Type: TypePublicEntity, Name: "Mairie de Paris", SIRET: "21750001600019"}
	b, _ := json.Marshal(o)
	if !strings.Contains(string(b), `"requirements":["address"]`) || strings.Contains(string(b), `"address":{`) {
		t.Fatalf("without an address: %s", b)
	}
	o.Address = Address{Line1: "Place de l'Hôtel de Ville", PostalCode: "75004", City: "Paris", Country: "FR"}
	if b, _ = json.Marshal(o); strings.Contains(string(b), "requirements") || len(o.Requirements()) != 0 {
		t.Fatalf("with an address: %s", b)
	}
}
