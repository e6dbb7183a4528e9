/* The model as JSON, for the addon: TypeScript checks it against the same schema as JSON and
 * YAML (src/ts/config/text-dialect.ts reads it). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "reader.h"

static void
put_origin(pdi_buf_t *out, const pdi_origin_t *origin)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "file", &first);
  pdi_buf_json_str(out, origin->file);
  pdi_buf_json_key(out, "line", &first);
  if (origin->line)
    pdi_buf_dec(out, origin->line);
  else
    pdi_buf_puts(out, "null");
  pdi_buf_json_key(out, "column", &first);
  if (origin->line && origin->column)
    pdi_buf_dec(out, origin->column);
  else
    pdi_buf_puts(out, "null");
  pdi_buf_putc(out, '}');
}

static void
put_option_value(pdi_buf_t *out, const pdi_options_t *options, const option_spec_t *spec)
{
  const void *field = (const char *)options + spec->offset;
  switch (spec->kind) {
  case KIND_INTEGER: {
    long n = *(const long *)field;
    if (n < 0) {
      pdi_buf_putc(out, '-');
      pdi_buf_dec(out, (uint64_t)-n);
    } else {
      pdi_buf_dec(out, (uint64_t)n);
    }
    break;
  }
  case KIND_BOOLEAN: pdi_buf_puts(out, *(const int *)field ? "true" : "false"); break;
  case KIND_CHOICE: {
    const char *p = spec->choices;
    for (int i = *(const int *)field; i > 0 && *p; i--)
      p += strcspn(p, "|") + (p[strcspn(p, "|")] == '|');
    char choice[64];
    snprintf(choice, sizeof choice, "%.*s", (int)strcspn(p, "|"), p);
    pdi_buf_json_str(out, choice);
    break;
  }
  case KIND_FILE: {
    const char *file = *(const char *const *)field;
    pdi_buf_json_str(out, file != NULL ? file : "stderr");
    break;
  }
  case KIND_DIRECTORIES: {
    const pdi_string_list_t *list = field;
    pdi_buf_putc(out, '[');
    for (unsigned i = 0; i < list->count; i++) {
      if (i)
        pdi_buf_putc(out, ',');
      pdi_buf_json_str(out, list->items[i]);
    }
    pdi_buf_putc(out, ']');
    break;
  }
  }
}

static void
put_options(pdi_buf_t *out, const pdi_options_t *options)
{
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < PDI_OPTION_COUNT; i++) {
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "name", &inner);
    pdi_buf_json_str(out, config_option_specs[i].name);
    pdi_buf_json_key(out, "value", &inner);
    put_option_value(out, options, &config_option_specs[i]);
    pdi_buf_json_key(out, "set", &inner);
    pdi_buf_puts(out, options->set[i] ? "true" : "false");
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &options->origin[i]);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
}

static void
put_backends(pdi_buf_t *out, const pdi_config_t *config)
{
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < config->backend_count; i++) {
    const pdi_backend_decl_t *backend = &config->backends[i];
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "name", &inner);
    pdi_buf_json_str(out, backend->name);
    pdi_buf_json_key(out, "library", &inner);
    pdi_buf_json_str(out, backend->value);
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &backend->origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
}

static void
put_rule(pdi_buf_t *out, const pdi_rule_t *rule)
{
  static const char *const field_names[PDI_FIELD_COUNT] = {"object", "function", "backend", "wrapper"};
  int inner = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "kind", &inner);
  pdi_buf_json_str(out, pdi_rule_kind_name(rule->kind));
  pdi_buf_json_key(out, "object", &inner);
  pdi_buf_json_str(out, rule->object);
  pdi_buf_json_key(out, "function", &inner);
  pdi_buf_json_str(out, rule->function);
  pdi_buf_json_key(out, "backend", &inner);
  pdi_buf_json_str(out, rule->backend_object != NULL ? rule->backend_object : rule->backend);
  pdi_buf_json_key(out, "wrapper", &inner);
  pdi_buf_json_str(out, rule->wrapper);
  pdi_buf_json_key(out, "origin", &inner);
  put_origin(out, &rule->origin);
  pdi_buf_json_key(out, "fields", &inner);
  int field_first = 1;
  pdi_buf_putc(out, '{');
  for (unsigned f = 0; f < PDI_FIELD_COUNT; f++) {
    pdi_buf_json_key(out, field_names[f], &field_first);
    put_origin(out, &rule->fields[f]);
  }
  pdi_buf_puts(out, "}}");
}

static void
put_warnings(pdi_buf_t *out, const pdi_config_t *config)
{
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < config->warning_count; i++) {
    int inner = 1;
    pdi_buf_puts(out, i ? ",{" : "{");
    pdi_buf_json_key(out, "message", &inner);
    pdi_buf_json_str(out, config->warnings[i].message);
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &config->warnings[i].origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
}

static void
put_model(pdi_buf_t *out, const pdi_config_t *config)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "options", &first);
  put_options(out, &config->options);
  pdi_buf_json_key(out, "backends", &first);
  put_backends(out, config);
  pdi_buf_json_key(out, "rules", &first);
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < config->rule_count; i++) {
    if (i)
      pdi_buf_putc(out, ',');
    put_rule(out, &config->rules[i]);
  }
  pdi_buf_putc(out, ']');
  pdi_buf_json_key(out, "warnings", &first);
  put_warnings(out, config);
  pdi_buf_putc(out, '}');
}

void
pdi_config_report(pdi_buf_t *out, const pdi_config_t *config, int status)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  if (status == 0) {
    pdi_buf_json_key(out, "config", &first);
    put_model(out, config);
  } else {
    pdi_buf_json_key(out, "error", &first);
    int inner = 1;
    pdi_buf_putc(out, '{');
    pdi_buf_json_key(out, "message", &inner);
    pdi_buf_json_str(out, config->failure_message != NULL ? config->failure_message : pdi_error());
    pdi_buf_json_key(out, "origin", &inner);
    put_origin(out, &config->failure_origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, '}');
}
