// Package archive holds the audit archive's adapters (audit.Archive): a
// directory, for the local runtime and tests, and an S3 bucket with Object
// Lock, deployed. Both write each key once and never replace it.
package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
)

// Dir archives into a directory tree (MODUPAY_AUDIT_ARCHIVE_DIR), one file
// per key, as the bucket would hold it.
type Dir struct{ Root string }

var _ audit.Archive = Dir{}

// Append writes body to Root/key once: a temporary file in the key's
// directory, then a hard link to the key's name, which fails when the name
// exists — so a file is never replaced, never seen half written, and a
// second append of the key is a no-op, whatever runs concurrently.
func (d Dir) Append(ctx context.Context, key string, body []byte) error {
	const op = "archive.dir_append"
	if !filepath.IsLocal(key) {
		return apperr.E(op, apperr.Malformed, fmt.Sprintf("archive key %q is not a relative path inside the archive", key))
	}
	path := filepath.Join(d.Root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return apperr.Transient(op, err)
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".append-*")
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
