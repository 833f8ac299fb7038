#!/usr/bin/env bash
# Install what the browser tests need: Debian's chromium (driven through Playwright's
# executable_path; Playwright's own browser downloads are never used) and the Playwright
# Python package into the active venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y chromium
fi
chromium --version

python -m pip install -q "playwright>=1.40"
# never `playwright install`: the tests launch /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
python -c "import playwright.sync_api; print('playwright', __import__('importlib.metadata').metadata.version('playwright'))"
