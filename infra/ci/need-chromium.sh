#!/usr/bin/env bash
# need-chromium.sh makes sure Debian's chromium is at /usr/bin/chromium, which
# the browser test (infra/browser) drives headless. Called by `make test` and
# by .ci/run. As root it installs the package (apt-get update once, then
# install; APT_UPDATED=1 says the caller has just updated); otherwise it says
# what to run and fails. MODUPAY_SKIP_BROWSER=1 (the browser test then skips)
# makes it a no-op.
set -euo pipefail

chromium=/usr/bin/chromium
[ -x "$chromium" ] && exit 0
[ "${MODUPAY_SKIP_BROWSER:-}" = 1 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "$chromium is missing; the browser test needs it: run 'sudo apt-get install chromium' (or MODUPAY_SKIP_BROWSER=1 to skip that test)" >&2
  exit 1
fi
echo "$chromium is missing: installing Debian's chromium" >&2
[ "${APT_UPDATED:-}" = 1 ] || apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x "$chromium" ] || { echo "the chromium package is installed but $chromium is not there" >&2; exit 1; }
