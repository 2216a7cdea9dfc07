#!/usr/bin/env bash
# Makes this Debian machine able to run Sluice's container host: Podman serves the Docker Engine
# API on a Unix socket (`podman system service`), which the docker host and its tests talk to.
# Idempotent: safe to run on every CI run. Runs as root.
#
# The configuration is not a matter of taste on these machines:
# - crun (Podman's default runtime) refuses their cgroup layout, runc accepts it;
# - there is no systemd to act as cgroup manager, so cgroupfs;
# - no journald either, so events go to a file (the wait API reads events);
# - the default ulimits Podman asks for cannot be raised here, so ask for ones that can.
set -euo pipefail

CONF_DIR=/etc/containers
CONF="$CONF_DIR/containers.conf"

missing=()
for p in podman runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

desired=$(cat <<'CONF'
# Written by Sluice's scripts/setup-podman.sh; rerunning it rewrites this file.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
)

mkdir -p "$CONF_DIR"
if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$desired" ]; then
  echo "setup-podman: $CONF already up to date"
else
  if [ -f "$CONF" ] && ! grep -q "Written by Sluice" "$CONF"; then
    # Someone else's configuration: keep it beside ours rather than lose it.
    cp -p "$CONF" "$CONF.before-sluice"
    echo "setup-podman: kept the previous $CONF as $CONF.before-sluice"
  fi
  printf '%s\n' "$desired" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  echo "setup-podman: wrote $CONF"
fi

# A quick self-check, so a broken set-up fails here with Podman's own words rather than later
# in a test as a timeout.
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.EventLogger}}' >/dev/null
echo "setup-podman: $(podman --version), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"
