#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core.h"
#include "proc-self.h"

typedef struct mapping {
  uintptr_t start;
  uintptr_t end;
  int prot;
} mapping_t;

typedef struct page_change {
  uintptr_t page;
  int prot;
} page_change_t;

static uintptr_t
parse_hex(const char **p)
{
  uintptr_t value = 0;
  for (;; (*p)++) {
    char c = **p;
    if (c >= '0' && c <= '9')
      value = value * 16 + (uintptr_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      value = value * 16 + (uintptr_t)(c - 'a' + 10);
    else
      return value;
  }
}

/* The protection of every page we touch comes from /proc/self/maps (read
 * once per batch): RELRO pages are read-only, but so may be pages that
 * another tool protected, and we put back exactly what was there. */
static int
page_protection(pdi_buf_t *maps, uintptr_t page)
{
  const char *p = maps->data;
  const char *end = maps->data + maps->len;
  while (p < end) {
    uintptr_t start = parse_hex(&p);
    if (*p == '-')
      p++;
    uintptr_t stop = parse_hex(&p);
    if (*p == ' ')
      p++;
    if (page >= start && page < stop && p + 3 <= end)
      return (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
    const char *newline = memchr(p, '\n', (size_t)(end - p));
    if (newline == NULL)
      break;
    p = newline + 1;
  }
  return -1;
}

static int
read_maps(pdi_buf_t *maps)
{
  int fd = pdi_proc_self_open("maps");
  if (fd < 0)
    return -1;
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    pdi_buf_put(maps, chunk, (size_t)n);
  }
  close(fd);
  return maps->failed ? -1 : 0;
}

int
pdi_patch_apply(const pdi_patch_t *patches, size_t count, int restore)
{
  if (count == 0)
    return 0;
  uintptr_t page_size = (uintptr_t)getauxval(AT_PAGESZ);
  pdi_buf_t maps = {0};
  pdi_buf_t changes = {0};
  int status = 0;
  if (read_maps(&maps) != 0) {
    pdi_set_error("cannot read /proc/self/maps: %s", strerror(errno));
    status = -1;
    goto done;
  }
  for (size_t i = 0; i < count; i++) {
    uintptr_t page = (uintptr_t)patches[i].slot & ~(page_size - 1);
    size_t known = changes.len / sizeof(page_change_t);
    int seen = 0;
    for (size_t j = 0; j < known && !seen; j++)
      seen = ((page_change_t *)changes.data)[j].page == page;
    if (seen)
      continue;
    int prot = page_protection(&maps, page);
    if (prot < 0) {
      pdi_set_error("slot %p is not in a mapped page", (void *)patches[i].slot);
      status = -1;
      goto done;
    }
    page_change_t change = {page, prot};
    pdi_buf_put(&changes, (const char *)&change, sizeof change);
  }
  if (changes.failed) {
    pdi_set_error("out of memory while patching");
    status = -1;
    goto done;
  }
  size_t pages = changes.len / sizeof(page_change_t);
  page_change_t *list = (page_change_t *)changes.data;
  size_t made_writable = 0;
  for (; made_writable < pages; made_writable++) {
    page_change_t *change = &list[made_writable];
    if ((change->prot & PROT_WRITE) == 0 &&
        mprotect((void *)change->page, page_size, change->prot | PROT_READ | PROT_WRITE) != 0) {
      pdi_set_error("cannot make the page at %p writable: %s", (void *)change->page, strerror(errno));
      status = -1;
      break;
    }
  }
  if (status == 0) {
    for (size_t i = 0; i < count; i++)
      __atomic_store_n(patches[i].slot, restore ? patches[i].old_value : patches[i].new_value, __ATOMIC_RELEASE);
  }
  for (size_t j = 0; j < made_writable; j++) {
    if ((list[j].prot & PROT_WRITE) == 0)
      mprotect((void *)list[j].page, page_size, list[j].prot);
  }
done:
  pdi_buf_release(&maps);
  pdi_buf_release(&changes);
  return status;
}

/* PR_GET_MDWE (66) returns the flags; PR_MDWE_REFUSE_EXEC_GAIN is bit 0.
 * Kernels before 6.3 fail the call: no MDWE then. */
int
pdi_mdwe_on(void)
{
  int flags = prctl(66, 0L, 0L, 0L, 0L);
  return flags > 0 && (flags & 1);
}
