/* The inside of the text-dialect reader, shared by its files: source.c (files, places, errors),
 * lex.c (tokens, comments, #@origin), options.c (`key = value`), rules.c (declarations and
 * rules), sections.c (statements, sections, Include, command files), config.c (the entry points)
 * and model.c (the model as JSON for the addon). */
#ifndef PDI_CONFIG_READER_H
#define PDI_CONFIG_READER_H

#include "config.h"

#define MAX_INCLUDE_DEPTH 32
#define MAX_TOKENS 8

typedef enum { KIND_INTEGER, KIND_BOOLEAN, KIND_CHOICE, KIND_FILE, KIND_DIRECTORIES } option_kind_t;

/* A `#@field COLUMN FILE:LINE:COL` comment: the token at COLUMN of the next
 * statement was written at that place (a compiled config's wrapper, say). */
#define MAX_FIELD_ORIGINS 16
typedef struct column_origin {
  unsigned column;
  pdi_origin_t origin;
} column_origin_t;

/* One row of options.generated.h, with where its value lives in pdi_options_t. */
typedef struct option_spec {
  const char *key;
  const char *name;
  option_kind_t kind;
  long min;
  long max;
  long fallback;
  const char *choices;
  const char *message;
  size_t offset;
} option_spec_t;

extern PDI_HIDDEN const option_spec_t config_option_specs[PDI_OPTION_COUNT];

typedef struct source_file {
  const char *path;
  const char *directory;
  const char **lines;
  unsigned line_count;
  /* Written by pdi (its first line is CONFIG_COMPILED_HEADER): its #@origin and #@field comments name the places
   * of the user's file it came from. In a file of the user's they are comments, as any other. */
  int compiled;
  struct source_file *next;
} source_file_t;

typedef struct include_frame {
  const source_file_t *file;
  const char *section;
} include_frame_t;

typedef struct command_file_ref {
  const char *name;
  const char *directory;
  pdi_origin_t origin;
} command_file_ref_t;

/* A read in progress. The arrays grow while files are read; then config.c hands them to the
 * config as its plain lists, which nothing grows afterwards. */
typedef struct reader {
  pdi_config_t *config;
  pdi_arena_t *arena;
  unsigned flags; /* PDI_CONFIG_* */
  source_file_t *files;
  include_frame_t stack[MAX_INCLUDE_DEPTH];
  unsigned depth;
  pdi_array_t command_files; /* command_file_ref_t, the `config =` files in order */
  command_file_ref_t runtime;
  pdi_origin_t pending_origin;
  int has_pending_origin;
  column_origin_t pending_fields[MAX_FIELD_ORIGINS];
  unsigned pending_field_count;
  pdi_array_t backends;                /* pdi_backend_decl_t */
  pdi_array_t objects;                 /* pdi_object_decl_t */
  pdi_array_t rules;                   /* pdi_rule_t */
  unsigned act_rules;                  /* how many of them are act rules (at most ACT_MAX_RULES) */
  pdi_array_t warnings;                /* pdi_config_warning_t */
  pdi_array_t failures;                /* pdi_config_failure_t */
  int stopped;                         /* no more statements are read: too many errors, or not the text dialect */
  int first_statement;                 /* the statement being read is its file's first */
  pdi_array_t becfg_path;              /* const char *: where command files are searched */
  pdi_array_t lists[PDI_OPTION_COUNT]; /* const char *: the entries of each DIRECTORIES option */
  /* What `debug = off` puts back: the log level before the `debug = on` it
   * undoes, while no other assignment of the level came between. */
  struct {
    int pending;
    int level;
    int was_set;
    pdi_origin_t origin;
  } before_debug;
} reader_t;

/* One statement being read: its text, its file, and the place a #@origin gave it. */
typedef struct line_ref {
  const char *text;
  const source_file_t *file;
  unsigned number;
  int overridden;
  pdi_origin_t origin;                       /* the #@origin place when overridden */
  column_origin_t fields[MAX_FIELD_ORIGINS]; /* the #@field places, when overridden */
  unsigned field_count;
} line_ref_t;

typedef enum { TOKEN_WORD, TOKEN_QUOTED, TOKEN_EQUALS } token_kind_t;

typedef struct token {
  const char *text; /* unquoted */
  token_kind_t kind;
  const char *start; /* in the line */
  const char *end;
} token_t;

typedef struct tokens {
  token_t items[MAX_TOKENS];
  unsigned count; /* MAX_TOKENS + 1 when there were more */
} tokens_t;

/* source.c: errors record the failure in the config (the first one also in pdi_error()) and return -1; after
 * PDI_CONFIG_MAX_FAILURES of them, or the first in a file that is JSON or YAML, the reader is stopped. */
PDI_HIDDEN int config_fail(reader_t *reader, const pdi_origin_t *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
PDI_HIDDEN int config_fail_token(reader_t *reader, const line_ref_t *line, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
PDI_HIDDEN pdi_origin_t config_origin_at(const line_ref_t *line, const char *at);
PDI_HIDDEN char *config_copy_range(pdi_arena_t *arena, const char *start, size_t len);
PDI_HIDDEN const char *config_resolve_path(pdi_arena_t *arena, const char *directory, const char *name);
/* The first line of a config that pdi compiled (src/ts/config/compile.ts). */
#define CONFIG_COMPILED_HEADER "# pdi config compiled by pdi "
PDI_HIDDEN source_file_t *config_add_source(reader_t *reader, const char *path, const char *directory, const char *text,
                                            size_t length, const pdi_origin_t *from);
/* The file at `path` this reader has read already, or NULL. */
PDI_HIDDEN source_file_t *config_find_source(reader_t *reader, const char *path);
/* Whether the first error is at the first statement of its file and that
 * line starts JSON or YAML (`{`, `---`, `options:`, `backends:`, `rules:`),
 * none of the text dialect. */
PDI_HIDDEN int config_fails_at_structured_start(reader_t *reader);
/* Puts the recorded failures in file order (each file's from the first error in it on, then by line and column),
 * the first of them the config's failure and pdi_error(). */
PDI_HIDDEN void config_order_failures(reader_t *reader);
/* Whether `file` was read here and is named as JSON or YAML, which the core does not read. */
PDI_HIDDEN int config_is_other_spelling(reader_t *reader, const char *file);
PDI_HIDDEN source_file_t *config_load_file(reader_t *reader, const char *path, const pdi_origin_t *from);

/* lex.c */
PDI_HIDDEN int config_is_blank(char c);
PDI_HIDDEN int config_lex(reader_t *reader, const line_ref_t *line, const char *from, int equals, tokens_t *out);
PDI_HIDDEN int config_rest_text(reader_t *reader, const line_ref_t *line, const char *rest, const char **out);
PDI_HIDDEN int config_is_statement(reader_t *reader, const char *text, int origins);

/* options.c */
PDI_HIDDEN void config_default_options(pdi_options_t *options);
PDI_HIDDEN int config_set_option(reader_t *reader, const line_ref_t *line, const token_t *key_token,
                                 const token_t *value_token);
PDI_HIDDEN int config_check_options(reader_t *reader);
/* The option key an unknown one most likely meant (the same words, its JSON/YAML name, or one key at most two edits
 * away), or NULL. */
PDI_HIDDEN const char *config_near_key(const char *key);
/* The name among `names` an unknown `word` most likely meant (the same words in another case or spelling, or the one
 * name at most two edits away), or NULL; as the TypeScript reader suggests. */
PDI_HIDDEN const char *config_near_name(const char *word, const char *const *names, size_t count);

/* rules.c */
PDI_HIDDEN int config_parse_declaration(reader_t *reader, const line_ref_t *line, const token_t *keyword,
                                        const char *rest);
PDI_HIDDEN int config_parse_rule(reader_t *reader, const line_ref_t *line, pdi_rule_kind_t kind, const token_t *keyword,
                                 const char *rest);
PDI_HIDDEN int config_check_rules(reader_t *reader);
/* A rule's object field: the pattern (an alias resolved), or NULL after an error. */
PDI_HIDDEN const char *config_rule_object(reader_t *reader, const line_ref_t *line, const token_t *object);
/* 0 when `function` is `name`, `name@VERSION` or `name@@VERSION`, else -1 after an error. */
PDI_HIDDEN int config_check_function(reader_t *reader, const line_ref_t *line, const token_t *function);

/* act-rules.c */
PDI_HIDDEN int config_parse_act(reader_t *reader, const line_ref_t *line, const token_t *keyword, const char *rest);

/* sections.c */
PDI_HIDDEN int config_run_section(reader_t *reader, const source_file_t *file, const char *section,
                                  const pdi_origin_t *from);
PDI_HIDDEN int config_run_command_file(reader_t *reader, const command_file_ref_t *ref);

#endif
