// Package validation applies identifier checks the way the stage wants them:
// production refuses a value that fails its checksum; the sandbox accepts it
// with a warning, so the integration guide's sample values (whose SIRET, VAT
// number and test IBANs fail their checksums) work verbatim there. A value of
// the wrong shape is refused everywhere.
package validation

import (
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/identifier"
)

// Warning is a check the value failed but the sandbox let through; write
// responses carry them so that an integrator sees what production would refuse.
type Warning struct {
	Param   string `json:"param"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Mode is the stage's policy.
type Mode struct {
	// Strict is production: checksum failures are errors.
	Strict bool
}

// Collector gathers the warnings of one request.
type Collector struct {
	Mode     Mode
	Warnings []Warning
}

// Apply turns a check's problem into an error naming param (format problems
// always; checksum problems in production) or a warning (checksum problems in
// the sandbox).
func (c *Collector) Apply(op, param string, p *identifier.Problem) error {
	if p == nil {
		return nil
	}
	if p.Code == "checksum" && !c.Mode.Strict {
		c.Warnings = append(c.Warnings, Warning{Param: param, Code: "checksum_failed",
			Message: p.Message + "; accepted in the sandbox, refused in production"})
		return nil
	}
	return apperr.Field(op, param, p.Message)
}

// Warn records a warning that is not a failed check (a sandbox test value).
func (c *Collector) Warn(param, code, message string) {
	c.Warnings = append(c.Warnings, Warning{Param: param, Code: code, Message: message})
}
