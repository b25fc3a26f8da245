// Package archive holds the audit archive's adapters (audit.Archive): a
// directory, for the local runtime and tests, and an S3 bucket with Object
// Lock, deployed. Both write each key once and never replace it (package
// objects).
package archive

import (
	"context"

	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/objects"
)

// Dir archives into a directory tree (MODUPAY_AUDIT_ARCHIVE_DIR), one file
// per key, as the bucket would hold it.
type Dir struct{ Root string }

var _ audit.Archive = Dir{}

// Append writes body to Root/key once: a second append of the key is a
// no-op, whatever runs concurrently (objects.Dir.PutOnce).
func (d Dir) Append(ctx context.Context, key string, body []byte) error {
	return objects.Dir{Root: d.Root}.PutOnce(ctx, key, body, "application/json")
}
