/* The native config reader: the text dialect of docs/config.md, read from
 * PDI_CONFIG (or DI_CFG_FILE) into one model that the mechanisms install. */
#ifndef PDI_CONFIG_H
#define PDI_CONFIG_H

#include "../core/core.h"

typedef struct pdi_origin {
  const char *file;
  unsigned line;
  unsigned column;
} pdi_origin_t;

typedef struct pdi_string_list {
  const char **items;
  unsigned count;
  unsigned capacity;
} pdi_string_list_t;

typedef struct pdi_options {
  long max_threads;
  long num_threads;
  long cb_stack_size;
  long cb_max_stubs;
  int cb_allow_handler;
  int donttouch_backends;
  int donttouch_pdi;
  int allow_lib_as_be;
  long max_objects;
  int on_error_warn;
  int log_level;
  const char *log_file;
  pdi_string_list_t be_path;
  pdi_string_list_t becfg_path;
} pdi_options_t;

/* A `backend NAME = LIBRARY` or `object ALIAS = PATTERN` line. */
typedef struct pdi_declaration {
  const char *name;
  const char *value;
  pdi_origin_t origin;
} pdi_declaration_t;

typedef pdi_declaration_t pdi_backend_decl_t;
typedef pdi_declaration_t pdi_object_decl_t;

typedef enum pdi_rule_kind {
  PDI_RULE_RELINK = 1,
  PDI_RULE_REDEFINE,
  PDI_RULE_CALLBACK
} pdi_rule_kind_t;

typedef struct pdi_rule {
  pdi_rule_kind_t kind;
  const char *object;   /* a pattern (aliases already resolved) */
  const char *function; /* NULL for callback rules */
  const char *backend;  /* a declared backend name, or an object alias under allow_lib_as_be */
  const char *wrapper;  /* wrapper, or callback handler; NULL when none */
  pdi_origin_t origin;
} pdi_rule_t;

typedef struct pdi_config {
  pdi_options_t options;
  pdi_backend_decl_t *backends;
  unsigned backend_count;
  pdi_object_decl_t *objects;
  unsigned object_count;
  pdi_rule_t *rules;
  unsigned rule_count;
  pdi_arena_t arena;
} pdi_config_t;

PDI_HIDDEN void pdi_config_init(pdi_config_t *config);
/* Reads a config file and its includes and command files; 0, or -1 with
 * pdi_error() = "FILE:LINE: message". Warnings go to `warn`. */
PDI_HIDDEN int pdi_config_load(pdi_config_t *config, const char *path, void (*warn)(const char *message));
PDI_HIDDEN void pdi_config_release(pdi_config_t *config);
PDI_HIDDEN const char *pdi_rule_kind_name(pdi_rule_kind_t kind);
PDI_HIDDEN const pdi_backend_decl_t *pdi_config_backend(const pdi_config_t *config, const char *name);
PDI_HIDDEN const pdi_object_decl_t *pdi_config_object(const pdi_config_t *config, const char *alias);

#endif
