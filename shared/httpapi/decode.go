package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
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
	var raw any
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		return apperr.E(op, apperr.Malformed, "malformed JSON")
	}
	return exactKeys(raw, reflect.TypeOf(v), "")
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
	// encoding/json reports an unknown field (DisallowUnknownFields) with a
	// plain fmt.Errorf and no type to test; its text is all there is.
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

// exactKeys refuses object keys that match a field only case-insensitively:
// encoding/json would accept {"NAME": …} for "name", and a partner who sends
// "Amount" must learn that the field is "amount", not have it guessed.
func exactKeys(raw any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := raw.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := jsonFields(t)
		for k, sub := range v {
			ft, ok := fields[k]
			if !ok {
				return apperr.Field("http.decode", path+k, "unknown field (field names are case-sensitive)")
			}
			if err := exactKeys(sub, ft, path+k+"."); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for _, sub := range v {
			if err := exactKeys(sub, t.Elem(), path); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the exact JSON names of a struct's fields (embedded structs
// flattened) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	return out
}
