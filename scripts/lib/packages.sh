# Shared by scripts/test and scripts/demo: install Debian packages whose commands are missing.
# Usage: ensure_commands "prometheus:prometheus" "promtool:prometheus" ...
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
  echo "==> installing ${missing[*]} (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package may start a system service on a default port; the tests and demo run their own.
  for pkg in "${missing[@]}"; do
    pkill -x "$pkg" 2>/dev/null || true
  done
}
