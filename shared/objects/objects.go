// Package objects keeps write-once objects: a directory for the local
// runtime and tests, an S3 bucket deployed. A key is written once and never
// replaced — a second put of a key is a no-op, whatever runs concurrently —
// which is what an archive entry and an issued invoice's document need: a
// redelivered or retried write changes nothing. It knows nothing of what
// it keeps.
package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/modupay/modupay/shared/apperr"
)

// Dir keeps objects in a directory tree, one file per key, as a bucket
// would hold them.
type Dir struct{ Root string }

// PutOnce writes body to Root/key once: a temporary file in the key's
// directory, then a hard link to the key's name, which fails when the name
// exists — so a file is never replaced, never seen half written, and a
// second put of the key is a no-op, whatever runs concurrently.
func (d Dir) PutOnce(ctx context.Context, key string, body []byte, contentType string) error {
	const op = "objects.dir_put"
	path, err := d.path(op, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return apperr.Transient(op, err)
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return apperr.Transient(op, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return apperr.Transient(op, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return apperr.Transient(op, err)
	}
	if err := tmp.Close(); err != nil {
		return apperr.Transient(op, err)
	}
	if err := os.Chmod(tmp.Name(), 0o440); err != nil {
		return apperr.Transient(op, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return apperr.Transient(op, err)
	}
	return nil
}

// Get reads the object of key; NotFound when there is none.
func (d Dir) Get(ctx context.Context, key string) ([]byte, error) {
	const op = "objects.dir_get"
	path, err := d.path(op, key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, apperr.E(op, apperr.NotFound, "no object "+key)
	}
	if err != nil {
		return nil, apperr.Transient(op, err)
	}
	return b, nil
}

func (d Dir) path(op, key string) (string, error) {
	if !filepath.IsLocal(key) {
		return "", apperr.E(op, apperr.Malformed, fmt.Sprintf("object key %q is not a relative path inside the store", key))
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

// S3API is the part of S3 the store uses.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3 keeps objects in a bucket.
type S3 struct {
	Client S3API
	Bucket string
}

// PutOnce puts body under key with If-None-Match: *, so S3 refuses to write
// over an existing object: a second put of the key answers 412, which is
// the success of a retry (no second version is made). The SDK sends the
// body's checksum, which a bucket with Object Lock requires of every put.
func (s S3) PutOnce(ctx context.Context, key string, body []byte, contentType string) error {
	const op = "objects.s3_put"
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String(contentType), IfNoneMatch: aws.String("*")})
	if err == nil {
		return nil
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
		return nil // put before
	}
	// 409 ConditionalRequestConflict (a concurrent put of the key), an
	// outage, throttling, access: the caller's retry.
	return apperr.Transient(op, err)
}

// Get reads the object of key; NotFound when there is none.
func (s S3) Get(ctx context.Context, key string) ([]byte, error) {
	const op = "objects.s3_get"
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, apperr.E(op, apperr.NotFound, "no object "+key)
	}
	if err != nil {
		return nil, apperr.Transient(op, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, apperr.Transient(op, err)
	}
	return b, nil
}

// NewS3 builds an S3 client: path-style addressing when an endpoint is set
// (a local S3 such as moto's answers on one host).
func NewS3(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
}
