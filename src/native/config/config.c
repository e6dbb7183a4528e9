/* The entry points of the config reader: a config from a file or from text, read in full and
 * then checked as a whole. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"

void
pdi_config_init(pdi_config_t *config)
{
  memset(config, 0, sizeof *config);
  config_default_options(&config->options);
}

/* Hands the arrays the reader grew to the config, as lists nothing grows afterwards. */
static void
publish(reader_t *reader)
{
  pdi_config_t *config = reader->config;
  config->backends = reader->backends.items;
  config->backend_count = (unsigned)reader->backends.count;
  config->objects = reader->objects.items;
  config->object_count = (unsigned)reader->objects.count;
  config->rules = reader->rules.items;
  config->rule_count = (unsigned)reader->rules.count;
  config->warnings = reader->warnings.items;
  config->warning_count = (unsigned)reader->warnings.count;
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    if (config_option_specs[i].kind != KIND_DIRECTORIES)
      continue;
    pdi_string_list_t *list = (pdi_string_list_t *)((char *)&config->options + config_option_specs[i].offset);
    list->items = reader->lists[i].items;
    list->count = (unsigned)reader->lists[i].count;
  }
}

/* Every statement is read, past errors (each one is recorded), until the reader is stopped. */
static int
run_files(reader_t *reader, const source_file_t *main_file)
{
  pdi_origin_t none = {NULL, 0, 0};
  if (main_file == NULL)
    return -1;
  int status = config_run_section(reader, main_file, "global", &none);
  if (!reader->stopped && reader->runtime.name != NULL && config_run_command_file(reader, &reader->runtime) != 0)
    status = -1;
  for (size_t i = 0; i < reader->command_files.count && !reader->stopped; i++)
    if (config_run_command_file(reader, (const command_file_ref_t *)reader->command_files.items + i) != 0)
      status = -1;
  return status;
}

/* A JSON or YAML file read as the text dialect (PDI_CONFIG=app.yaml, `config = app.yaml`, `Include "app.yaml"`)
 * fails at its first line: the error says which reader takes it. */
static void
hint_other_spelling(reader_t *reader)
{
  pdi_config_t *config = reader->config;
  static const char by_name[] = " (the core reads the text dialect only: `pdi run -c FILE` reads JSON and YAML, and "
                                "`pdi config compile FILE -o FILE.cfg` turns them into the text dialect)";
  static const char by_content[] =
      " (its first line starts JSON or YAML, which pdi run -c and pdi config check read in a file named .json, .yaml "
      "or .yml, and the core never: `pdi config compile FILE.yaml -o FILE.cfg` turns it into the text dialect)";
  const char *hint = config_is_other_spelling(reader, config->failure_origin.file) ? by_name
                     : config_fails_at_structured_start(reader)                    ? by_content
                                                                                   : NULL;
  if (hint == NULL)
    return;
  char message[1024];
  snprintf(message, sizeof message, "%s", pdi_error());
  pdi_set_error("%s%s", message, hint);
  if (config->failure_message != NULL) {
    snprintf(message, sizeof message, "%s%s", config->failure_message, hint);
    config->failure_message = pdi_arena_strdup(reader->arena, message);
    if (config->failure_count > 0 && config->failure_message != NULL)
      config->failures[0].message = config->failure_message;
  }
}

static int
read_config(pdi_config_t *config, const source_file_t *(*open_main)(reader_t *, const void *), const void *argument,
            unsigned flags)
{
  reader_t reader;
  memset(&reader, 0, sizeof reader);
  reader.config = config;
  reader.flags = flags;
  reader.arena = &config->arena;
  int status = run_files(&reader, open_main(&reader, argument));
  publish(&reader);
  int whole = (flags & PDI_CONFIG_DEFER_WHOLE) == 0 || status != 0;
  int limits = !reader.stopped && whole && config_check_options(&reader) != 0;
  /* After a statement's error this would report what follows from it: a rule whose backend's line was wrong. An
   * option over its limit is no statement's error: the rules are still checked. */
  if (status == 0)
    status = config_check_rules(&reader);
  if (limits)
    status = -1;
  if (status != 0) {
    config_order_failures(&reader);
    config->failures = reader.failures.items;
    config->failure_count = (unsigned)reader.failures.count;
    hint_other_spelling(&reader);
  }
  return status;
}

static const source_file_t *
open_path(reader_t *reader, const void *argument)
{
  const char *path = argument;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL)
    snprintf(cwd, sizeof cwd, "/");
  const char *absolute = config_resolve_path(reader->arena, cwd, path);
  pdi_origin_t none = {NULL, 0, 0};
  if (absolute == NULL) {
    config_fail(reader, &none, "out of memory");
    return NULL;
  }
  return config_load_file(reader, absolute, &none);
}

typedef struct text_source {
  const char *name;
  const char *directory;
  const char *text;
  size_t length;
} text_source_t;

static const source_file_t *
open_text(reader_t *reader, const void *argument)
{
  const text_source_t *source = argument;
  pdi_origin_t none = {NULL, 0, 0};
  return config_add_source(reader, source->name, source->directory, source->text, source->length, &none);
}

int
pdi_config_load(pdi_config_t *config, const char *path)
{
  return read_config(config, open_path, path, 0);
}

int
pdi_config_read(pdi_config_t *config, const char *name, const char *directory, const char *text, size_t length,
                unsigned flags)
{
  text_source_t source = {name, directory, text, length};
  return read_config(config, open_text, &source, flags);
}

void
pdi_config_release(pdi_config_t *config)
{
  pdi_arena_release(&config->arena);
  memset(config, 0, sizeof *config);
}
