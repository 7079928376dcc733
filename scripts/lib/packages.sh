# Shared by scripts/test and scripts/demo: install Debian packages whose commands are missing.
# Usage: ensure_commands "prometheus:prometheus" "promtool:prometheus" ...
#
# Packages like prometheus start a system service on a default port when installed. The tests
# and the demo run their own processes on ports of their own, and must never stop anyone
# else's, so no service is started at all: during the install, /usr/sbin/policy-rc.d answers
# 101 ("action forbidden"), the Debian mechanism invoke-rc.d and deb-systemd-invoke consult
# before starting a service (the same file Debian's container images ship). A policy-rc.d
# already in place is left as it is.
ensure_commands() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # De-duplicate package names.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: missing ${missing[*]} and not root; install them: apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  echo "==> installing ${missing[*]} (Debian packages; their services are not started)"
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Installed by burnwatch scripts/lib/packages.sh for one apt-get run.\nexit 101\n' |
      $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    ours=1
  fi
  local status=0
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    status=$?
  if [ -n "$ours" ]; then
    $sudo rm -f "$policy"
  fi
  return $status
}
