#!/usr/bin/env bash
# Installs what building mcpproxy needs (Debian 12 / Ubuntu packages only; see DESIGN in docs/).
source "$(dirname "$0")/lib.sh"
apt_install_missing \
  build-essential g++ cmake ninja-build ccache pkg-config \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libssl-dev libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev \
  libsodium-dev
