#!/usr/bin/env bash
# Provisions the external readers the storage sink tests check their files with: a Python venv at
# $KCONNECT_CACHE/storage-venv holding pyarrow (Parquet), fastavro (Avro object container files)
# and deltalake (delta-rs, Delta Lake tables) from PyPI, readers nobody here wrote. Idempotent: a
# venv whose packages import is left alone.
# internal/testenv.StoragePython finds the venv's interpreter (or KCONNECT_TEST_STORAGE_PYTHON).
#
# Usage: scripts/storage-readers.sh
set -euo pipefail

readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly VENV="$CACHE/storage-venv"
readonly PY_PACKAGES=('pyarrow==21.0.0' 'fastavro==1.13.1' 'cramjam==2.11.0' 'deltalake==1.6.6')

log() { printf 'storage-readers: %s\n' "$*" >&2; }

if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import pyarrow.parquet, fastavro, cramjam, deltalake' 2>/dev/null; then
	log "venv ready at $VENV"
	exit 0
fi
command -v python3 >/dev/null || { log "ERROR: python3 is needed"; exit 1; }
mkdir -p "$CACHE"
rm -rf "$VENV"
log "creating $VENV with ${PY_PACKAGES[*]}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}" >"$CACHE/storage-venv.log" 2>&1 ||
	{ log "ERROR: pip install failed, see $CACHE/storage-venv.log"; exit 1; }
"$VENV/bin/python" -c 'import pyarrow.parquet, fastavro, cramjam, deltalake'
log "venv ready at $VENV"
