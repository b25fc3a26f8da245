#!/usr/bin/env bash
# need-poppler.sh makes sure Debian's poppler-utils (pdftotext, pdfinfo,
# pdftoppm) are installed: the invoice document tests (shared/invoicedoc) read
# the PDFs they render with them, as a payer's reader would. Called by `make
# test` and by .ci/run. As root it installs the package (APT_UPDATED=1 says
# the caller has just run apt-get update); otherwise it says what to run and
# fails. `go test -short` needs none of it.
set -euo pipefail

command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "poppler-utils are missing; the invoice document tests need them: run 'sudo apt-get install poppler-utils'" >&2
  exit 1
fi
echo "poppler-utils are missing: installing Debian's poppler-utils" >&2
[ "${APT_UPDATED:-}" = 1 ] || apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
command -v pdftotext >/dev/null 2>&1 || { echo "poppler-utils is installed but pdftotext is not on PATH" >&2; exit 1; }
