/* The words of a line: tokens, quotes, comments, and the #@origin and #@field comments that give the next
 * statement its place. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "reader.h"

/* ---- lexing: blanks separate tokens; "..." quotes one (with \" and \\); a # at the start of a
 * token starts a comment; with `equals`, the first = outside quotes is a token of its own. */

int
config_is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int
config_lex(reader_t *reader, const line_ref_t *line, const char *from, int equals, tokens_t *out)
{
  out->count = 0;
  const char *p = from;
  for (;;) {
    while (config_is_blank(*p))
      p++;
    if (*p == '\0' || *p == '#')
      return 0;
    token_t token = {NULL, TOKEN_WORD, p, NULL};
    if (*p == '=' && equals) {
      equals = 0;
      token.kind = TOKEN_EQUALS;
      token.text = "=";
      p++;
    } else if (*p == '"') {
      char *text = pdi_arena_alloc(reader->arena, strlen(p) + 1);
      if (text == NULL)
        return config_fail_token(reader, line, p, "out of memory");
      size_t used = 0;
      const char *q = p + 1;
      while (*q && *q != '"') {
        if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
          q++;
        text[used++] = *q++;
      }
      if (*q != '"')
        return config_fail_token(reader, line, p, "unterminated quoted string (a closing \" is missing)");
      text[used] = '\0';
      q++;
      if (*q != '\0' && !config_is_blank(*q) && !(*q == '=' && equals))
        return config_fail_token(reader, line, q, "expected a blank after the closing quote");
      token.kind = TOKEN_QUOTED;
      token.text = text;
      p = q;
    } else {
      const char *q = p;
      while (*q && !config_is_blank(*q) && !(*q == '=' && equals))
        q++;
      token.text = config_copy_range(reader->arena, p, (size_t)(q - p));
      if (token.text == NULL)
        return config_fail_token(reader, line, p, "out of memory");
      p = q;
    }
    token.end = p;
    if (out->count == MAX_TOKENS) {
      out->count = MAX_TOKENS + 1;
      return 0;
    }
    out->items[out->count++] = token;
  }
}

/* Where the comment of a line starts (or its end), with quoted strings skipped. */
static const char *
comment_start(const char *p)
{
  for (;;) {
    while (config_is_blank(*p))
      p++;
    if (*p == '\0' || *p == '#')
      return p;
    if (*p == '"') {
      p++;
      while (*p && *p != '"')
        p += (*p == '\\' && (p[1] == '"' || p[1] == '\\')) ? 2 : 1;
      if (*p == '"')
        p++;
    }
    while (*p && !config_is_blank(*p))
      p++;
  }
}

/* The text after a keyword up to a comment, trimmed; a single quoted string is unquoted. */
int
config_rest_text(reader_t *reader, const line_ref_t *line, const char *rest, const char **out)
{
  while (config_is_blank(*rest))
    rest++;
  const char *end = comment_start(rest);
  while (end > rest && config_is_blank(end[-1]))
    end--;
  if (*rest == '"') {
    tokens_t tokens;
    if (config_lex(reader, line, rest, 0, &tokens) != 0)
      return -1;
    if (tokens.count == 1) {
      *out = tokens.items[0].text;
      return 0;
    }
  }
  *out = config_copy_range(reader->arena, rest, (size_t)(end - rest));
  return *out != NULL ? 0 : config_fail_token(reader, line, rest, "out of memory");
}

/* `FILE[:LINE[:COLUMN]]`, blanks around it ignored: 0, or -1 without a file. */
static int
parse_place(reader_t *reader, const char *spec, pdi_origin_t *out)
{
  while (config_is_blank(*spec))
    spec++;
  size_t len = strlen(spec);
  while (len > 0 && config_is_blank(spec[len - 1]))
    len--;
  unsigned numbers[2] = {0, 0};
  unsigned found = 0;
  while (found < 2) {
    size_t i = len;
    while (i > 0 && spec[i - 1] >= '0' && spec[i - 1] <= '9')
      i--;
    if (i == len || i < 2 || spec[i - 1] != ':')
      break;
    numbers[found++] = (unsigned)strtoul(spec + i, NULL, 10);
    len = i - 1;
  }
  if (len == 0)
    return -1;
  out->file = config_copy_range(reader->arena, spec, len);
  out->line = found == 2 ? numbers[1] : found == 1 ? numbers[0] : 0;
  out->column = found == 2 ? numbers[0] : 0;
  return out->file != NULL ? 0 : -1;
}

/* `#@origin FILE[:LINE[:COLUMN]]`: the place of the next statement. */
static void
parse_origin_comment(reader_t *reader, const char *text)
{
  reader->has_pending_origin = parse_place(reader, text + strlen("#@origin"), &reader->pending_origin) == 0;
}

/* `#@field COLUMN FILE[:LINE[:COLUMN]]`: the place of one token of the next statement. */
static void
parse_field_comment(reader_t *reader, const char *text)
{
  char *end = NULL;
  unsigned long column = strtoul(text + strlen("#@field"), &end, 10);
  column_origin_t field = {(unsigned)column, {0}};
  if (end == text + strlen("#@field") || column == 0 || column > 1u << 20 || !config_is_blank(*end) ||
      reader->pending_field_count == MAX_FIELD_ORIGINS || parse_place(reader, end, &field.origin) != 0)
    return;
  reader->pending_fields[reader->pending_field_count++] = field;
}

/* 1 for a statement, 0 for a blank or comment line (a #@origin is noted for the next statement). */
int
config_is_statement(reader_t *reader, const char *text, int origins)
{
  while (config_is_blank(*text))
    text++;
  if (*text == '\0')
    return 0;
  if (*text == '#') {
    if (origins && strncmp(text, "#@origin", 8) == 0 && config_is_blank(text[8]))
      parse_origin_comment(reader, text);
    else if (origins && strncmp(text, "#@field", 7) == 0 && config_is_blank(text[7]))
      parse_field_comment(reader, text);
    return 0;
  }
  return 1;
}
