package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

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
	// encoding/json would replace invalid UTF-8 with U+FFFD and let the
	// last of two equal keys win; either way the stored value would not be
	// what the client, or a proxy in front, read. Both are refused.
	if !utf8.Valid(r.Body) {
		return apperr.E(op, apperr.Malformed, "the body is not valid UTF-8")
	}
	if err := noDuplicateKeys(r.Body); err != nil {
		return err
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

// noDuplicateKeys refuses an object that names a key twice, at any depth,
// naming the key's path. Malformed JSON is left to the decoder's errors.
func noDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		path   string
		key    bool // the next token of an object is a key
	}
	var stack []*frame
	at := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1].path
	}
	value := func() { // a value ended: an enclosing object expects a key again
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true
		}
	}
	lastKey := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or malformed: the decoder says which
		}
		top := (*frame)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				path := at()
				if top != nil && top.object {
					path = joinPath(path, lastKey)
				}
				stack = append(stack, &frame{object: v == '{', keys: map[string]bool{}, path: path, key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				value()
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[v] {
					return apperr.Field("http.decode", joinPath(top.path, v), "the key appears twice in its object")
				}
				top.keys[v], top.key, lastKey = true, false, v
				continue
			}
			value()
		default:
			value()
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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
