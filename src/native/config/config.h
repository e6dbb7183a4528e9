/* The native config reader: the one reader of the text dialect of docs/config.md. The core
 * reads PDI_CONFIG (or DI_CFG_FILE) with it; the addon hands its model to TypeScript, which
 * checks JSON and YAML against the same option table (options.generated.h). */
#ifndef PDI_CONFIG_H
#define PDI_CONFIG_H

#include <stdarg.h>

#include "../core/core.h"
#include "options.generated.h"

/* A place in a config file; line 0 when only the file is known, column 0 when unknown. */
typedef struct pdi_origin {
  const char *file;
  unsigned line;
  unsigned column;
} pdi_origin_t;

typedef struct pdi_string_list {
  const char *const *items;
  unsigned count;
} pdi_string_list_t;

#define PDI_OPTION_TYPE_INTEGER long
#define PDI_OPTION_TYPE_BOOLEAN int
#define PDI_OPTION_TYPE_CHOICE int
#define PDI_OPTION_TYPE_FILE const char *
#define PDI_OPTION_TYPE_DIRECTORIES pdi_string_list_t

/* The index of each option in the table (PDI_OPTION_INDEX(max_threads) ...), as in set[] and origin[]. */
enum {
#define PDI_OPTION_ENUM(field, key, name, kind, min, max, fallback, choices, message) PDI_OPTION_INDEX_##field,
  PDI_OPTIONS(PDI_OPTION_ENUM)
#undef PDI_OPTION_ENUM
};
#define PDI_OPTION_INDEX(field) PDI_OPTION_INDEX_##field

typedef struct pdi_options {
#define PDI_OPTION_MEMBER(field, key, name, kind, min, max, fallback, choices, message) PDI_OPTION_TYPE_##kind field;
  PDI_OPTIONS(PDI_OPTION_MEMBER)
#undef PDI_OPTION_MEMBER
  unsigned char set[PDI_OPTION_COUNT]; /* which options the config sets, in table order */
  pdi_origin_t origin[PDI_OPTION_COUNT];
} pdi_options_t;

/* A `backend NAME = LIBRARY` or `object ALIAS = PATTERN` line. A backend's library is a
 * bundled name, a file name, or an absolute path (relative paths are resolved when read). */
typedef struct pdi_declaration {
  const char *name;
  const char *value;
  pdi_origin_t origin;
  pdi_origin_t value_origin; /* where the library or pattern is written */
} pdi_declaration_t;

typedef pdi_declaration_t pdi_backend_decl_t;
typedef pdi_declaration_t pdi_object_decl_t;

typedef enum pdi_rule_kind { PDI_RULE_RELINK = 1, PDI_RULE_REDEFINE, PDI_RULE_CALLBACK, PDI_RULE_ACT } pdi_rule_kind_t;

struct act_rule;

enum { PDI_FIELD_OBJECT, PDI_FIELD_FUNCTION, PDI_FIELD_BACKEND, PDI_FIELD_WRAPPER, PDI_FIELD_COUNT };

typedef struct pdi_rule {
  pdi_rule_kind_t kind;
  const char *object;         /* a pattern (aliases already resolved) */
  const char *function;       /* NULL for callback rules */
  const char *backend;        /* as written: a declared backend, or under allow_lib_as_be an object; NULL for act */
  const char *backend_object; /* under allow_lib_as_be, the object pattern the wrapper comes from */
  const char *wrapper;        /* wrapper, or callback handler; NULL when none */
  pdi_origin_t origin;
  pdi_origin_t fields[PDI_FIELD_COUNT];
  struct act_rule *act; /* an act rule's conditions and actions (backends/act/act-spec.h) */
} pdi_rule_t;

/* A message at a place of the config: a `Warning` line run, or one error of a failed read. */
typedef struct pdi_config_message {
  const char *message;
  pdi_origin_t origin;
} pdi_config_message_t;
typedef pdi_config_message_t pdi_config_warning_t;
typedef pdi_config_message_t pdi_config_failure_t;

/* A read goes on after an error to the next statement, and stops at this many. */
#define PDI_CONFIG_MAX_FAILURES 20
#define PDI_STRINGIFY(x) PDI_STRINGIFY_TEXT(x)
#define PDI_STRINGIFY_TEXT(x) #x
/* Whether a failed read stopped at PDI_CONFIG_MAX_FAILURES errors (more may follow). */
#define PDI_CONFIG_FAILURES_CUT(config) ((config)->failure_count >= PDI_CONFIG_MAX_FAILURES)

typedef struct pdi_config {
  pdi_options_t options;
  pdi_backend_decl_t *backends;
  unsigned backend_count;
  pdi_object_decl_t *objects;
  unsigned object_count;
  pdi_rule_t *rules;
  unsigned rule_count;
  pdi_config_warning_t *warnings; /* the `Warning` lines run, in order */
  unsigned warning_count;
  pdi_origin_t failure_origin; /* after a failed read: where, and what (its first error) */
  const char *failure_message;
  pdi_config_failure_t *failures; /* after a failed read: every error, in file order (at least one) */
  unsigned failure_count;
  pdi_arena_t arena;
} pdi_config_t;

PDI_HIDDEN void pdi_config_init(pdi_config_t *config);
/* Reads a config file and its includes and command files; 0, or -1 with pdi_error() =
 * "FILE:LINE:COL: message" of the first error and failure_origin/failure_message set. After an
 * error in a statement it reads on from the next one, so that `failures` lists every statement's
 * error (up to PDI_CONFIG_MAX_FAILURES); the checks of the whole (option limits, rules' backends)
 * run only when every statement was read. A .json, .yaml or .yml file stops at its first error:
 * it is not the text dialect at all. */
PDI_HIDDEN int pdi_config_load(pdi_config_t *config, const char *path);
/* How pdi_config_read reads. */
enum {
  /* The config is one of several that the caller merges and checks as a whole (pdi run -c a.yaml
   * -c b.cfg): what another file may settle is left to the caller, a rule's undeclared backend
   * (another file may declare it) and a callback's handler without cb_allow_handler (another
   * file may set it). */
  PDI_CONFIG_MERGING = 1u << 0,
  /* The checks of the config as a whole, an option over the option that limits it and a callback's handler without
   * cb_allow_handler, are left to the caller, which checks them on the model with the backends and their wrappers
   * (pdi config check, pdi run); only when every statement was read without error, as the caller gets no model
   * otherwise. */
  PDI_CONFIG_DEFER_WHOLE = 1u << 1,
};
/* The same for a config given as text: `name` names it in origins (and is where
 * `Include ":section"` looks), `directory` is where its relative paths start; `flags` are
 * PDI_CONFIG_* (0 reads as pdi_config_load does). */
PDI_HIDDEN int pdi_config_read(pdi_config_t *config, const char *name, const char *directory, const char *text,
                               size_t length, unsigned flags);
PDI_HIDDEN void pdi_config_release(pdi_config_t *config);
/* "FILE:LINE:COL: ", "FILE:LINE: ", "FILE: " or "" for an origin, into `out`. */
PDI_HIDDEN void pdi_origin_format(const pdi_origin_t *origin, char *out, size_t size);
/* "FILE:LINE", "FILE" (a config given in memory names its entries so: `rules[2]`) or "?", into `out`,
 * which it returns: where a rule is, in messages that go on after it. */
PDI_HIDDEN const char *pdi_origin_where(const pdi_origin_t *origin, char *out, size_t size);
/* Sets pdi_error() to "FILE:LINE:COL: SUBJECT: message" (no subject when it
 * is NULL, no place when the origin has no file) and returns -1. */
PDI_HIDDEN int pdi_error_at(const pdi_origin_t *origin, const char *subject, const char *fmt, va_list args);
/* The model as JSON (for the addon): {"config": {...}} when `status` is 0, else {"error": {...}, "errors": [...]}. */
PDI_HIDDEN void pdi_config_report(pdi_buf_t *out, const pdi_config_t *config, int status);
PDI_HIDDEN const char *pdi_rule_kind_name(pdi_rule_kind_t kind);
PDI_HIDDEN const pdi_backend_decl_t *pdi_config_backend(const pdi_config_t *config, const char *name);
PDI_HIDDEN const pdi_object_decl_t *pdi_config_object(const pdi_config_t *config, const char *alias);

#endif
