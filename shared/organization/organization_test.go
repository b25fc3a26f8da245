package organization

import (
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
)

func valid() CreateInput {
	return CreateInput{Type: "public_entity", Name: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
		Address: &Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*CreateInput)
		wantParam string // "" = valid
	}{
		{name: "seed sample", mutate: func(*CreateInput) {}},
		{name: "company without VAT", mutate: func(in *CreateInput) { in.Type, in.VATNumber = "company", "" }},
		{name: "spaces in identifiers are removed", mutate: func(in *CreateInput) { in.SIRET, in.VATNumber = "216 901 234 00019", "fr 21 216901234" }},
		{name: "lower-case country", mutate: func(in *CreateInput) { in.Address.Country = "fr" }},
		{name: "foreign address, non-French postal code", mutate: func(in *CreateInput) { in.Address.Country, in.Address.PostalCode = "BE", "1000" }},
		{name: "unknown type", mutate: func(in *CreateInput) { in.Type = "association" }, wantParam: "type"},
		{name: "blank name", mutate: func(in *CreateInput) { in.Name = "   " }, wantParam: "name"},
		{name: "200 accented characters is fine", mutate: func(in *CreateInput) { in.Name = strings.Repeat("é", 200) }},
		{name: "201 characters", mutate: func(in *CreateInput) { in.Name = strings.Repeat("a", 201) }, wantParam: "name"},
		{name: "SIRET of 13 digits", mutate: func(in *CreateInput) { in.SIRET = "2169012340001" }, wantParam: "siret"},
		{name: "SIRET with a letter", mutate: func(in *CreateInput) { in.SIRET = "2169012340001A" }, wantParam: "siret"},
		{name: "VAT of another SIREN", mutate: func(in *CreateInput) { in.VATNumber = "FR21732829320" }, wantParam: "vat_number"},
		{name: "VAT not French", mutate: func(in *CreateInput) { in.VATNumber = "DE123456789" }, wantParam: "vat_number"},
		{name: "no address", mutate: func(in *CreateInput) { in.Address = nil }, wantParam: "address"},
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
			err := in.Validate()
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
	in.SIRET, in.VATNumber, in.Address.Country = " 216 901 234 00019 ", "fr21216901234", "fr"
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if in.SIRET != "21690123400019" || in.VATNumber != "FR21216901234" || in.Address.Country != "FR" {
		t.Errorf("normalised to %q %q %q", in.SIRET, in.VATNumber, in.Address.Country)
	}
}
