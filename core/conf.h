/* Internal side of the configuration tree (include/ethd/config.h is the
 * reader API services use). Parsing, CLI overrides and the unknown-key check. */
#ifndef ETHD_CORE_CONF_H
#define ETHD_CORE_CONF_H
#include <ethd/config.h>
#include <stdbool.h>
#include <stddef.h>

#define ETHD_CONF_MAX_FILE (1u << 20) /* 1 MiB of YAML is plenty for a node config */
#define ETHD_CONF_MAX_DEPTH 32

/* Parse a YAML file into a tree. An empty file gives an empty map. On failure
 * returns ETHD_ECONFIG (or ETHD_EIO/ETHD_ETOOBIG) and writes
 * "FILE:LINE:COL: message" into err. *root: caller frees with ethd_conf_free. */
int ethd_conf_load_file(const char *path, struct ethd_conf **root, char *err, size_t errlen);
/* Same, from memory; `name` stands for FILE in messages ("<embedded default>"). */
int ethd_conf_load_string(const char *name, const char *text, size_t len, struct ethd_conf **root,
                          char *err, size_t errlen);
void ethd_conf_free(struct ethd_conf *root);

/* Set the scalar at dotted `path` (creating maps on the way, replacing what
 * was there); used for command-line overrides, whose location reads
 * "<command line>". ETHD_ECONFIG if a path component is a non-map. Replacing a
 * value frees the old subtree: earlier pointers into it become invalid. */
int ethd_conf_set(struct ethd_conf *root, const char *path, const char *value);

/* Mark a node used (recursive: and everything under it). */
void ethd_conf_mark_used(const struct ethd_conf *n, bool recursive);
/* ETHD_ECONFIG with "FILE:LINE:COL: unknown key 'k' in PATH" for the first key
 * under n (depth-first, file order) that no reader touched; 0 if none. */
int ethd_conf_check_unused(const struct ethd_conf *n, char *err, size_t errlen);

#endif
