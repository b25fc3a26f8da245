package engines

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// axe-core, the accessibility rules engine the browser test runs inside the
// pages it audits, from the npm registry; pinned by version and by the hash
// of the one file used, like DynamoDB Local.
const (
	AxePackage = "axe-core"
	AxeVersion = "4.11.0"
	// AxeSHA256 is the sha256 of package/axe.min.js in AxePackage@AxeVersion,
	// computed by us when we pinned it.
	AxeSHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"
	axeFile   = "axe.min.js"
)

// EnsureAxe returns axe.min.js, fetched once into the cache and verified on
// every use.
func EnsureAxe(ctx context.Context) ([]byte, error) {
	base, err := CacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir %s: %w", base, err)
	}
	path := filepath.Join(base, AxePackage+"-"+AxeVersion, axeFile)
	if b, err := readVerified(path, AxeSHA256); err == nil {
		return b, nil
	}
	unlock, err := lockFile(ctx, filepath.Dir(path)+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	b, err := readVerified(path, AxeSHA256)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		_ = os.RemoveAll(filepath.Dir(path)) // a corrupted cache: fetch again
	}
	tmp, err := os.MkdirTemp(base, ".axe-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tgz, err := npmPack(ctx, tmp, AxePackage, AxeVersion)
	if err != nil {
		return nil, err
	}
	b, err = extractFile(tgz, "package/"+axeFile, 4<<20)
	if err != nil {
		return nil, fmt.Errorf("extract %s from %s: %w", axeFile, tgz, err)
	}
	if got := sha256Hex(b); got != AxeSHA256 {
		return nil, fmt.Errorf("refusing %s@%s: %s sha256 is %s, pinned %s", AxePackage, AxeVersion, axeFile, got, AxeSHA256)
	}
	dir := filepath.Join(tmp, "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, axeFile), b, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(dir, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("move %s into the cache: %w", axeFile, err)
	}
	return b, nil
}

func readVerified(path, sum string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if got := sha256Hex(b); got != sum {
		return nil, fmt.Errorf("%s sha256 is %s, pinned %s", path, got, sum)
	}
	return b, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// extractFile reads one regular file of a .tgz, refusing one larger than limit.
func extractFile(tgz, name string, limit int64) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s not in the package", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name != name || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > limit {
			return nil, fmt.Errorf("%s is %d bytes, over %d", name, h.Size, limit)
		}
		return io.ReadAll(io.LimitReader(tr, limit))
	}
}
