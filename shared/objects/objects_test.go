package objects_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/objects"
)

// A key is written once: a second put with other bytes changes nothing; a
// key never written is NotFound; a key that would leave the root is
// refused.
func TestDirPutOnceAndGet(t *testing.T) {
	ctx := context.Background()
	d := objects.Dir{Root: t.TempDir()}
	if err := d.PutOnce(ctx, "a/b.pdf", []byte("first"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	if err := d.PutOnce(ctx, "a/b.pdf", []byte("second"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	if b, err := d.Get(ctx, "a/b.pdf"); err != nil || !bytes.Equal(b, []byte("first")) {
		t.Errorf("read %q, %v; want the first put", b, err)
	}
	if _, err := d.Get(ctx, "a/c.pdf"); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("a missing key: %v", err)
	}
	for _, key := range []string{"../x", "/etc/passwd"} {
		if err := d.PutOnce(ctx, key, nil, ""); apperr.CodeOf(err) != apperr.Malformed {
			t.Errorf("put %q: %v", key, err)
		}
		if _, err := d.Get(ctx, key); apperr.CodeOf(err) != apperr.Malformed {
			t.Errorf("get %q: %v", key, err)
		}
	}
}
