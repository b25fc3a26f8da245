package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/modupay/modupay/shared/apperr"
)

// DecodeJSON reads the body into v strictly: the media type must be JSON, the
// body one JSON value, and every field one v knows. Errors name the field, so a
// partner sees "param": "address.postal_code" rather than a generic 400.
func DecodeJSON(r *Request, v any) error {
	const op = "http.decode"
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return apperr.E(op, apperr.Malformed, "a JSON request body is required")
	}
	if mt := r.MediaType(); mt != "application/json" {
		return apperr.E(op, apperr.UnsupportedType, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.E(op, apperr.Malformed, "the body must contain a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	const op = "http.decode"
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apperr.E(op, apperr.Malformed, fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apperr.E(op, apperr.Malformed, "the body must be a JSON object")
		}
		return apperr.Field(op, field, fmt.Sprintf("must be of type %s", jsonType(typ.Type.Kind().String())))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apperr.E(op, apperr.Malformed, "malformed JSON: unexpected end of body")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return apperr.Field(op, name, "unknown field")
	}
	return apperr.E(op, apperr.Malformed, "malformed JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	}
	return kind
}
