#!/usr/bin/env bash
# Chromium and a CJK font for the browser tests (Playwright drives Debian's chromium; it cannot download its own).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "浏览器测试需要 chromium 和 fonts-wqy-microhei: sudo apt-get install -y chromium fonts-wqy-microhei" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
