package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"
)

// Response is what a handler returns. Body is sent as is.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Binary marks a body that is not text (an image): API Gateway takes it
	// base64-encoded, with isBase64Encoded true, and sends the client the
	// decoded bytes. A text body is sent as a string.
	Binary bool
	// Cookies are Set-Cookie values: payload 2.0 sends each in cookies, as
	// a header map cannot hold two Set-Cookie lines.
	Cookies []string
}

// JSON renders v as the response body. Marshalling our own types cannot fail
// short of a programming error, which is reported as a 500 by the caller.
func JSON(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &Response{Status: status, Header: h, Body: b}, nil
}

// Raw answers with a body of the given content type.
func Raw(status int, contentType string, body []byte) *Response {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	return &Response{Status: status, Header: h, Body: body}
}

// File answers a file that never changes (an issued invoice's document):
// binary, shown inline under its name, kept by the client a day.
func File(contentType, name string, body []byte) *Response {
	resp := Raw(http.StatusOK, contentType, body)
	resp.Binary = true
	resp.Header.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	resp.Header.Set("Cache-Control", "private, max-age=86400, immutable")
	return resp
}

// NoContent answers 204.
func NoContent() *Response { return &Response{Status: http.StatusNoContent, Header: http.Header{}} }
