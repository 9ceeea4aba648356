#!/bin/sh
# embed.sh SYMBOL FILE: print a C file defining SYMBOL as FILE's bytes (a
# NUL-terminated string) and SYMBOL_len as its length.
set -eu
sym=$1 file=$2
printf '/* Generated from %s by build-aux/embed.sh; do not edit. */\n' "${file##*/}"
printf 'const char %s[] =\n' "$sym"
od -An -v -tx1 "$file" | sed 's/ *$//; s/ /\\x/g; s/^/    "/; s/$/"/'
printf '    "";\nconst unsigned long %s_len = sizeof(%s) - 1;\n' "$sym" "$sym"
