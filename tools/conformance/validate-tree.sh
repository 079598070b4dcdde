#!/usr/bin/env bash
# Thin wrapper: validate-tree.sh TREE [TREE...] runs validate.py (which enters the conformance venv itself).
exec python3 "$(dirname "${BASH_SOURCE[0]}")/validate.py" "$@"
