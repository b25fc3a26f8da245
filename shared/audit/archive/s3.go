package archive

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/objects"
)

// S3 archives into a bucket (MODUPAY_AUDIT_ARCHIVE_BUCKET; template.yaml's
// AuditArchiveBucket: Object Lock in compliance mode for seven years,
// versioned, to Glacier after 90 days).
type S3 struct {
	Client objects.S3API
	Bucket string
}

var _ audit.Archive = S3{}

// Append puts body under key once (If-None-Match: *): a second append of
// the key — a redelivery — makes no second version. The bucket's default
// retention locks each object as it is written. A concurrent put of the
// key (409), an outage, throttling or access is Transient: retried, then
// dead-lettered and redriven.
func (s S3) Append(ctx context.Context, key string, body []byte) error {
	return objects.S3{Client: s.Client, Bucket: s.Bucket}.PutOnce(ctx, key, body, "application/json")
}

// NewS3 builds the archive's S3 client (objects.NewS3).
func NewS3(cfg aws.Config, endpoint string) *s3.Client { return objects.NewS3(cfg, endpoint) }
