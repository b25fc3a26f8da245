package archive

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
)

// S3API is the part of S3 the archive uses.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3 archives into a bucket (MODUPAY_AUDIT_ARCHIVE_BUCKET; template.yaml's
// AuditArchiveBucket: Object Lock in compliance mode for seven years,
// versioned, to Glacier after 90 days).
type S3 struct {
	Client S3API
	Bucket string
}

var _ audit.Archive = S3{}

// Append puts body under key with If-None-Match: *, so S3 refuses to write
// over an existing object: a second append of the key answers 412, which
// is the success of a redelivery (no second version is made). The bucket's
// default retention locks each object as it is written; the SDK sends the
// body's checksum, which Object Lock requires of every put.
func (s S3) Append(ctx context.Context, key string, body []byte) error {
	const op = "archive.s3_append"
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*")})
	if err == nil {
		return nil
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
		return nil // archived before
	}
	// 409 ConditionalRequestConflict (a concurrent put of the key), an
	// outage, throttling, access: retried, then dead-lettered and redriven.
	return apperr.Transient(op, err)
}

// NewS3 builds the archive's S3 client: path-style addressing when an
// endpoint is set (a local S3 such as moto's answers on one host).
func NewS3(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
}
