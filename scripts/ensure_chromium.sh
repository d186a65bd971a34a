#!/usr/bin/env bash
# The browser tests (tests/e2e) drive Debian's Chromium via Playwright; never `playwright install`
# (it downloads a browser build, which fails offline). Best effort: without root or apt the e2e tests skip.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (about 40 s)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "note: could not install chromium; browser tests will be skipped"
else
  echo "note: /usr/bin/chromium missing and not root; browser tests will be skipped"
fi
exit 0
