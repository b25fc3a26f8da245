package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsOrganizationNotFound(t *testing.T) {
	if !IsOrganizationNotFound(fmt.Errorf("wrapped: %w", OrganizationNotFound("x"))) {
		t.Error("a wrapped OrganizationNotFound is not recognised")
	}
	for _, err := range []error{E("x", NotFound, "payment order not found"), E("x", Invalid, "organization not found"), errors.New("organization not found"), nil} {
		if IsOrganizationNotFound(err) {
			t.Errorf("%v is taken for an unknown organisation", err)
		}
	}
}
