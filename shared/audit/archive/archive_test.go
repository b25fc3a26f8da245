package archive_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/archive"
	"github.com/modupay/modupay/shared/lambdaenv"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

const key = "audit/partner-demo/org-1/2026/11/21/log-evt-1.json"

// The directory: a key is written once and never replaced; a key that
// would leave the directory is refused, never written.
func TestDirAppendsOnce(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := archive.Dir{Root: root}
	if err := d.Append(ctx, key, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Append(ctx, key, []byte(`{"n":2}`)); err != nil {
		t.Fatalf("second append of the key: %v, want the success of a redelivery", err)
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(key)))
	if err != nil || string(b) != `{"n":1}` {
		t.Errorf("archived %q (%v), want the first body, unchanged", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(filepath.Join(root, filepath.FromSlash(key))))
	if len(entries) != 1 {
		t.Errorf("the key's directory holds %d files, want 1 (no temporary file left)", len(entries))
	}
	for _, bad := range []string{"../escape.json", "/abs.json", "audit/../../x.json"} {
		if err := d.Append(ctx, bad, []byte("{}")); apperr.CodeOf(err) != apperr.Malformed {
			t.Errorf("Append(%q) = %v, want Malformed", bad, err)
		}
	}
}

func TestArchiveKeyIsSafeAndDated(t *testing.T) {
	e := audit.Entry{ID: "log-evt-1", PartnerID: "partner-demo"}
	e.Timestamp = e.Timestamp.AddDate(2025, 11, 20) // 2026-12-21
	if got, err := audit.ArchiveKey(e); err != nil || got != "audit/partner-demo/_partner/2026/12/21/log-evt-1.json" {
		t.Errorf("partner-level key = %q, %v", got, err)
	}
	for _, bad := range []audit.Entry{{ID: "../x", PartnerID: "p"}, {ID: "log-1", PartnerID: "p/q"}, {ID: "log-1", PartnerID: "p", OrganizationID: ".."}} {
		if k, err := audit.ArchiveKey(bad); err == nil {
			t.Errorf("ArchiveKey(%+v) = %q, want refused", bad, k)
		}
	}
}

// S3 on moto's server (the local engine that also serves SQS): the first
// append writes, the second is refused by If-None-Match and counts as done;
// the bucket keeps one version of the key.
func TestS3AppendsOnce(t *testing.T) {
	_, endpoint := enginetest.Endpoints(t)
	ctx := context.Background()
	client := archive.NewS3(lambdaenv.AWSConfigFromEnv("eu-west-3", true), endpoint)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bucket := "audit-archive-" + hex.EncodeToString(b)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest3}}); err != nil {
		t.Fatal(err)
	}
	a := archive.S3{Client: client, Bucket: bucket}
	if err := a.Append(ctx, key, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, key, []byte(`{"n":2}`)); err != nil {
		t.Fatalf("second append of the key: %v, want the success of a redelivery", err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != `{"n":1}` || aws.ToString(out.ContentType) != "application/json" {
		t.Errorf("object = %q (%s), want the first body", body, aws.ToString(out.ContentType))
	}
	vs, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) != 1 {
		t.Errorf("versions of the key = %d, want 1", len(vs.Versions))
	}
	// Another bucket's absence is an error to retry, never a silent success.
	if err := (archive.S3{Client: client, Bucket: bucket + "-missing"}).Append(ctx, key, []byte("{}")); !apperr.Retryable(err) {
		t.Errorf("append to a missing bucket = %v, want a transient error", err)
	}
}
