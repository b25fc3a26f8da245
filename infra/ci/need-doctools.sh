#!/usr/bin/env bash
# need-doctools.sh makes sure the tools the invoice document tests
# (shared/invoicedoc) read their output with are installed: Debian's
# poppler-utils (pdftotext, pdfinfo, pdffonts, pdfdetach, pdftoppm: the PDF
# as a reader sees it), qpdf (the PDF's structure) and libxml2-utils
# (xmllint: the CII against the Factur-X schemas). Called by
# `make test` and by .ci/run. As root it installs the packages (APT_UPDATED=1
# says the caller has just run apt-get update); otherwise it says what to run
# and fails. `go test -short` needs none of them.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
missing=()
{ have pdftotext && have pdfinfo && have pdffonts && have pdfdetach && have pdftoppm; } || missing+=(poppler-utils)
have qpdf || missing+=(qpdf)
have xmllint || missing+=(libxml2-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "${missing[*]} missing; the invoice document tests need them: run 'sudo apt-get install ${missing[*]}'" >&2
  exit 1
fi
echo "${missing[*]} missing: installing them from Debian" >&2
[ "${APT_UPDATED:-}" = 1 ] || apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
have pdftotext && have qpdf && have xmllint || { echo "installed ${missing[*]}, but pdftotext, qpdf or xmllint is not on PATH" >&2; exit 1; }
