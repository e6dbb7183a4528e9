/* The model as JSON, for the addon: TypeScript checks it against the same schema as JSON and
 * YAML (src/ts/config/text-dialect.ts reads it). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../backends/act/act-spec.h"
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
put_signed(pdi_buf_t *out, long long value)
{
  /* Past 2^53 a JSON number loses digits in JavaScript: a decimal string then. */
  int exact = value > -(1LL << 53) && value < (1LL << 53);
  if (!exact)
    pdi_buf_putc(out, '"');
  if (value < 0)
    pdi_buf_putc(out, '-');
  pdi_buf_dec(out, value < 0 ? -(uint64_t)value : (uint64_t)value);
  if (!exact)
    pdi_buf_putc(out, '"');
}

static void
put_option_value(pdi_buf_t *out, const pdi_options_t *options, const option_spec_t *spec)
{
  const void *field = (const char *)options + spec->offset;
  switch (spec->kind) {
  case KIND_INTEGER: put_signed(out, *(const long *)field); break;
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
    pdi_buf_json_key(out, "libraryOrigin", &inner);
    put_origin(out, &backend->value_origin);
    pdi_buf_putc(out, '}');
  }
  pdi_buf_putc(out, ']');
}

static void
put_number(pdi_buf_t *out, double value)
{
  char text[64];
  snprintf(text, sizeof text, "%.17g", value);
  pdi_buf_puts(out, text);
}

static void
put_act_when(pdi_buf_t *out, const act_rule_t *act)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  if (act->call_count > 0) {
    pdi_buf_json_key(out, "call", &first);
    for (unsigned i = 0; i < act->call_count; i++) {
      pdi_buf_putc(out, i ? ',' : '[');
      pdi_buf_dec(out, act->calls[i]);
    }
    pdi_buf_putc(out, ']');
  }
  const struct {
    const char *key;
    unsigned long value;
  } counts[] = {{"from", act->from}, {"times", act->times}, {"every", act->every}};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
    if (counts[i].value != 0) {
      pdi_buf_json_key(out, counts[i].key, &first);
      pdi_buf_dec(out, counts[i].value);
    }
  if (act->probability >= 0) {
    pdi_buf_json_key(out, "probability", &first);
    put_number(out, act->probability);
    pdi_buf_json_key(out, "seed", &first);
    pdi_buf_dec(out, act->seed);
  }
  if (act->arg_index >= 0) {
    pdi_buf_json_key(out, "arg", &first);
    pdi_buf_dec(out, (uint64_t)act->arg_index);
    pdi_buf_json_key(out, act->has_arg_equals ? "equals" : "matches", &first);
    if (act->has_arg_equals)
      put_signed(out, act->arg_equals);
    else
      pdi_buf_json_str(out, act->arg_glob);
  }
  pdi_buf_putc(out, '}');
}

static void
put_act_do(pdi_buf_t *out, const act_rule_t *act)
{
  int first = 1;
  pdi_buf_putc(out, '{');
  if (act->returns) {
    pdi_buf_json_key(out, "return", &first);
    if (act->returns_double) {
      pdi_buf_puts(out, "{\"double\":");
      /* JSON has no NaN and no infinity: the spellings a JSON config gives them. */
      if (isnan(act->return_double))
        pdi_buf_puts(out, "\"nan\"");
      else if (isinf(act->return_double))
        pdi_buf_puts(out, act->return_double > 0 ? "\"inf\"" : "\"-inf\"");
      else
        put_number(out, act->return_double);
      pdi_buf_putc(out, '}');
    } else {
      put_signed(out, act->return_value);
    }
  }
  if (act->error != 0) {
    pdi_buf_json_key(out, "errno", &first);
    pdi_buf_json_str(out, strerrorname_np(act->error));
  }
  if (act->delay_ns > 0) {
    static const struct {
      long long scale;
      const char *unit;
    } units[] = {{1000000000LL, "s"}, {1000000LL, "ms"}, {1000LL, "us"}, {1LL, "ns"}};
    size_t u = 0;
    while (act->delay_ns % units[u].scale != 0)
      u++;
    char text[48];
    snprintf(text, sizeof text, "%lld%s", act->delay_ns / units[u].scale, units[u].unit);
    pdi_buf_json_key(out, "delay", &first);
    pdi_buf_json_str(out, text);
  }
  if (act->signal != 0) {
    char name[32];
    snprintf(name, sizeof name, "SIG%s", sigabbrev_np(act->signal));
    pdi_buf_json_key(out, "signal", &first);
    pdi_buf_json_str(out, name);
  }
  if (!act->returns && act->delay_ns <= 0 && act->signal == 0) {
    pdi_buf_json_key(out, "count", &first);
    pdi_buf_puts(out, "true");
  }
  pdi_buf_putc(out, '}');
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
  pdi_buf_putc(out, '}');
  if (rule->act != NULL) {
    pdi_buf_json_key(out, "when", &inner);
    put_act_when(out, rule->act);
    pdi_buf_json_key(out, "do", &inner);
    put_act_do(out, rule->act);
  }
  pdi_buf_putc(out, '}');
}

/* {"message": ..., "origin": {...}}: a warning, or an error of a failed read. */
static void
put_placed(pdi_buf_t *out, const char *message, const pdi_origin_t *origin)
{
  int inner = 1;
  pdi_buf_putc(out, '{');
  pdi_buf_json_key(out, "message", &inner);
  pdi_buf_json_str(out, message);
  pdi_buf_json_key(out, "origin", &inner);
  put_origin(out, origin);
  pdi_buf_putc(out, '}');
}

static void
put_placed_list(pdi_buf_t *out, const pdi_config_message_t *items, unsigned count)
{
  pdi_buf_putc(out, '[');
  for (unsigned i = 0; i < count; i++) {
    if (i)
      pdi_buf_putc(out, ',');
    put_placed(out, items[i].message, &items[i].origin);
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
  put_placed_list(out, config->warnings, config->warning_count);
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
    put_placed(out, config->failure_message != NULL ? config->failure_message : pdi_error(), &config->failure_origin);
    pdi_buf_json_key(out, "errors", &first);
    put_placed_list(out, config->failures, config->failure_count);
    pdi_buf_json_key(out, "cut", &first);
    pdi_buf_puts(out, PDI_CONFIG_FAILURES_CUT(config) ? "true" : "false");
  }
  pdi_buf_putc(out, '}');
}
