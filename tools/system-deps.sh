#!/usr/bin/env bash
# Install the Debian packages flannot's tests and demo need, when missing and running as root.
set -euo pipefail
pkgs=(xvfb xauth dicom3tools chromium libgl1 libegl1 libfontconfig1 libxkbcommon-x11-0 libxcb-icccm4
      libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0
      libxcb-xfixes0 libxcb-shape0 libxcb-cursor0 libdbus-1-3
      orthanc orthanc-dicomweb)  # orthanc: the PACS tests' DICOMweb server (SPEC §17)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "flannot: missing system packages: ${missing[*]}" >&2
  echo "  install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the tests start their own Orthanc on a free loopback port: keep the system service off
if printf '%s\n' "${missing[@]}" | grep -qx orthanc; then
  service orthanc stop >/dev/null 2>&1 || true
  update-rc.d orthanc disable >/dev/null 2>&1 || true
fi
