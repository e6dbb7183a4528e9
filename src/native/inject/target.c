/* What pdi-inject learns about the target from /proc before it stops any
 * thread: its program's ELF header, its maps, and the C library's dlopen. */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/elf-machine.h"
#include "../core/process-start.h"
#include "inject.h"

typedef struct {
  const unsigned char *data;
  size_t size;
} mapped_file_t;

/* `path` (absolute) as the target sees it: through its root, so that a
 * process in a container is read in its own file system. */
static void
root_path(const char *proc, const char *path, char *out, size_t size)
{
  if (path[0] == '/')
    snprintf(out, size, "%s/root%s", proc, path);
  else
    snprintf(out, size, "%s", path);
}

static int
map_file(const char *path, mapped_file_t *file)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (data == MAP_FAILED)
    return -1;
  file->data = data;
  file->size = (size_t)st.st_size;
  return 0;
}

static void
unmap_file(mapped_file_t *file)
{
  munmap((void *)file->data, file->size);
}

static int
in_file(const mapped_file_t *file, uint64_t offset, uint64_t size)
{
  return offset <= file->size && size <= file->size - offset;
}

/* Names and versions come from .dynsym, its string table and .gnu.version:
 * the default version of `name` (glibc 2.34 has dlopen@@GLIBC_2.34 next to
 * the older dlopen@GLIBC_2.2.5, both the same function). One body for both
 * ELF classes: an x86-64 injector reads i386 C libraries too. */
#define DEFINE_FIND_SYMBOL(bits)                                                                                       \
  static uintptr_t find_symbol##bits(const mapped_file_t *file, const char *name, size_t *size)                        \
  {                                                                                                                    \
    const Elf##bits##_Ehdr *eh = (const void *)file->data;                                                             \
    if (!in_file(file, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf##bits##_Shdr)))                                 \
      return 0;                                                                                                        \
    const Elf##bits##_Shdr *sh = (const void *)(file->data + eh->e_shoff);                                             \
    const Elf##bits##_Shdr *dynsym = NULL, *versym = NULL;                                                             \
    for (unsigned i = 0; i < eh->e_shnum; i++) {                                                                       \
      if (sh[i].sh_type == SHT_DYNSYM)                                                                                 \
        dynsym = &sh[i];                                                                                               \
      else if (sh[i].sh_type == SHT_GNU_versym)                                                                        \
        versym = &sh[i];                                                                                               \
    }                                                                                                                  \
    if (dynsym == NULL || dynsym->sh_link >= eh->e_shnum || !in_file(file, dynsym->sh_offset, dynsym->sh_size))        \
      return 0;                                                                                                        \
    const Elf##bits##_Shdr *strtab = &sh[dynsym->sh_link];                                                             \
    if (!in_file(file, strtab->sh_offset, strtab->sh_size))                                                            \
      return 0;                                                                                                        \
    const Elf##bits##_Sym *syms = (const void *)(file->data + dynsym->sh_offset);                                      \
    size_t count = dynsym->sh_size / sizeof *syms;                                                                     \
    const uint16_t *versions = NULL;                                                                                   \
    if (versym != NULL && in_file(file, versym->sh_offset, count * sizeof *versions))                                  \
      versions = (const void *)(file->data + versym->sh_offset);                                                       \
    const char *strings = (const char *)file->data + strtab->sh_offset;                                                \
    for (size_t i = 0; i < count; i++) {                                                                               \
      if (syms[i].st_name >= strtab->sh_size || syms[i].st_shndx == SHN_UNDEF || syms[i].st_value == 0)                \
        continue;                                                                                                      \
      if (strcmp(strings + syms[i].st_name, name) != 0 || (versions != NULL && (versions[i] & 0x8000) != 0))           \
        continue;                                                                                                      \
      *size = (size_t)syms[i].st_size;                                                                                 \
      return (uintptr_t)syms[i].st_value;                                                                              \
    }                                                                                                                  \
    return 0;                                                                                                          \
  }

DEFINE_FIND_SYMBOL(32)
DEFINE_FIND_SYMBOL(64)

/* Whether the program has an interpreter (PT_INTERP): a static one has no
 * loader and no dlopen to call. */
#define DEFINE_HAS_INTERP(bits)                                                                                        \
  static int has_interp##bits(const mapped_file_t *file)                                                               \
  {                                                                                                                    \
    const Elf##bits##_Ehdr *eh = (const void *)file->data;                                                             \
    if (!in_file(file, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf##bits##_Phdr)))                                 \
      return 0;                                                                                                        \
    const Elf##bits##_Phdr *ph = (const void *)(file->data + eh->e_phoff);                                             \
    for (unsigned i = 0; i < eh->e_phnum; i++)                                                                         \
      if (ph[i].p_type == PT_INTERP)                                                                                   \
        return 1;                                                                                                      \
    return 0;                                                                                                          \
  }

DEFINE_HAS_INTERP(32)
DEFINE_HAS_INTERP(64)

/* A defined dynamic symbol of an ELF file: its address relative to the
 * file's load bias and its size; 0 and 0 if absent or unreadable. */
typedef struct {
  uintptr_t value;
  size_t size;
} elf_symbol_t;

/* Each of `names` in the ELF file `path`, which is mapped once for all. */
static void
elf_symbols(const char *path, const char *const *names, size_t count, elf_symbol_t *found)
{
  memset(found, 0, count * sizeof *found);
  mapped_file_t file;
  if (map_file(path, &file) != 0)
    return;
  const unsigned char *ident = file.data;
  if (memcmp(ident, ELFMAG, SELFMAG) == 0)
    for (size_t i = 0; i < count; i++)
      found[i].value = ident[EI_CLASS] == ELFCLASS64 ? find_symbol64(&file, names[i], &found[i].size)
                                                     : find_symbol32(&file, names[i], &found[i].size);
  unmap_file(&file);
}

static int
basename_is(const char *path, const char *prefix)
{
  const char *slash = strrchr(path, '/');
  return strncmp(slash != NULL ? slash + 1 : path, prefix, strlen(prefix)) == 0;
}

/* A process without a program to read: a zombie, or a kernel thread. */
static void
fail_without_program(pid_t pid)
{
  if (pdi_process_state(pid) == 'Z')
    inject_fail("process %d has ended (a zombie that its parent has not reaped yet): there is nothing to attach to",
                (int)pid);
  inject_fail("process %d is a kernel thread: it has no program to load pdi into", (int)pid);
}

/* The program must be an ELF file of this architecture with an
 * interpreter: a static program has no loader and no dlopen to call. */
static void
check_program(pid_t pid, const char *proc)
{
  char exe[96], program[PATH_MAX];
  snprintf(exe, sizeof exe, "%s/exe", proc);
  ssize_t length = readlink(exe, program, sizeof program - 1);
  program[length > 0 ? length : 0] = '\0';
  /* To the kernel a program run by qemu-user is qemu: pdi would enter the
   * emulator, and its rules would apply to qemu's own calls. */
  if (length > 0 && basename_is(program, "qemu-"))
    inject_fail("process %d runs under %s: attaching would enter the emulator, not the program it runs; start the "
                "program under qemu with pdi's core for its architecture instead (docs/launching.md, \"Programs of "
                "another architecture\")",
                (int)pid, program);
  mapped_file_t file;
  if (map_file(exe, &file) != 0) {
    if (errno == EACCES || errno == EPERM)
      exit(INJECT_NOT_PERMITTED);
    if (errno == ENOENT && length <= 0)
      fail_without_program(pid);
    inject_fail("process %d: cannot read its program (%s)", (int)pid, strerror(errno));
  }
  const Elf64_Ehdr *eh = (const void *)file.data;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
    inject_fail("process %d: its program is not an ELF file", (int)pid);
  int machine = eh->e_machine; /* at the same offset in both classes */
  int is64 = eh->e_ident[EI_CLASS] == ELFCLASS64;
  if (machine == EM_AARCH64)
    inject_fail("process %d is an aarch64 program: attaching to aarch64 is not implemented yet (docs/attach.md)",
                (int)pid);
  /* The class is said apart ("a 32-bit ... program"): the machine is named as a 64-bit one. */
  const char *named = pdi_elf_machine_name((unsigned)machine, ELFCLASS64);
  if (!PDI_INJECT_SUPPORTED || !pdi_inject_arch_accepts(eh->e_ident[EI_CLASS], machine))
    inject_fail("process %d is a %d-bit %s program: this pdi attaches to %s programs only", (int)pid, is64 ? 64 : 32,
                named != NULL ? named : "another architecture", pdi_inject_arch_name());
  int dynamic = is64 ? has_interp64(&file) : has_interp32(&file);
  unmap_file(&file);
  if (!dynamic)
    inject_fail("process %d is statically linked: it has no dynamic loader to load pdi with", (int)pid);
}

static void
add_range(inject_ranges_t *ranges, uintptr_t start, uintptr_t end)
{
  if (ranges->count < INJECT_MAX_RANGES)
    ranges->list[ranges->count++] = (inject_range_t){start, end};
}

/* One line of /proc/PID/maps: where the loader, the C library and the
 * core are. The C library's bias is its lowest mapping minus its offset. */
static void
map_line(inject_target_t *target, const char *line, ino_t core_inode)
{
  uintptr_t start, end;
  unsigned long long offset, inode;
  char perms[8];
  int path_at = 0;
  if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %*s %llu %n", &start, &end, perms, &offset, &inode, &path_at) <
          5 ||
      path_at == 0)
    return;
  char path[4096];
  snprintf(path, sizeof path, "%s", line + path_at);
  path[strcspn(path, "\n")] = '\0';
  if (path[0] != '/')
    return;
  int code = perms[2] == 'x';
  if (basename_is(path, "ld-linux") || basename_is(path, "ld-2.") || basename_is(path, "ld.so")) {
    add_range(&target->loader, start, end);
    if (code)
      add_range(&target->lock_code, start, end);
  } else if (basename_is(path, "libc.so") || basename_is(path, "libc-2.")) {
    if (target->libc[0] == '\0') {
      snprintf(target->libc, sizeof target->libc, "%s", path);
      target->libc_bias = start - (uintptr_t)offset;
      target->libc_mapping = (inject_range_t){start, end};
    }
    if (code)
      add_range(&target->libc_code, start, end);
  } else if ((core_inode != 0 && inode == (unsigned long long)core_inode && basename_is(path, "pdi-preload")) ||
             basename_is(path, "pdi-backend-")) {
    /* A thread in a bundled backend is inside a hook or wrapper of a
     * session: not the moment to open or close one under it. */
    if (code)
      add_range(&target->core, start, end);
    if (!target->core_mapped && core_inode != 0 && inode == (unsigned long long)core_inode) {
      target->core_mapped = 1;
      target->core_bias = start - (uintptr_t)offset;
    }
  }
}

static void
read_maps(inject_target_t *target, const char *core)
{
  char name[96];
  snprintf(name, sizeof name, "%s/maps", target->proc);
  FILE *maps = fopen(name, "re");
  if (maps == NULL)
    inject_fail("process %d: cannot read its maps (%s)", (int)target->pid, strerror(errno));
  struct stat st;
  ino_t core_inode = stat(core, &st) == 0 ? st.st_ino : 0;
  char line[8192];
  while (fgets(line, sizeof line, maps) != NULL)
    map_line(target, line, core_inode);
  fclose(maps);
}

static int
ends_with(const char *text, const char *suffix)
{
  size_t length = strlen(text), suffix_length = strlen(suffix);
  return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

/* The file to read the C library's symbols from. Its mapping
 * (/proc/PID/map_files) is the very file the process runs, even after an
 * upgrade replaced it on disk, but opening that needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE; else the path of the maps line, unless it is gone:
 * the file there now is another C library, whose addresses are not these. */
static void
libc_file(const inject_target_t *target, char *out, size_t size)
{
  snprintf(out, size, "%s/map_files/%" PRIxPTR "-%" PRIxPTR, target->proc, target->libc_mapping.start,
           target->libc_mapping.end);
  int fd = open(out, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return;
  }
  if (ends_with(target->libc, " (deleted)"))
    inject_fail("process %d: its C library %s was replaced on disk since it started (an upgrade?), and only root "
                "can read the one it runs, to find dlopen there: attach as root, or restart the process",
                (int)target->pid, target->libc);
  root_path(target->proc, target->libc, out, size);
}

/* The C library's functions the injector calls (the first three), then
 * those that hold malloc's or the loader's locks while they call others
 * (lock_code; dlopen and dlsym are both). */
static const char *const libc_names[] = {
    "dlopen",          "dlsym",        "dlerror",     "malloc",         "free",          "calloc",
    "realloc",         "reallocarray", "memalign",    "posix_memalign", "aligned_alloc", "valloc",
    "pvalloc",         "malloc_stats", "malloc_info", "malloc_trim",    "mallinfo2",     "dlclose",
    "dl_iterate_phdr", "dladdr1",      "fork"};
enum { LIBC_DLOPEN, LIBC_DLSYM, LIBC_DLERROR, LIBC_NAMES = sizeof libc_names / sizeof libc_names[0] };

/* /proc/PID, or the directory of a live thread when the main thread is a
 * zombie and the process is not (its main thread called pthread_exit). */
static void
proc_view(pid_t pid, char *out, size_t size)
{
  snprintf(out, size, "/proc/%d", (int)pid);
  if (pdi_process_state(pid) != 'Z')
    return;
  char tasks[64];
  snprintf(tasks, sizeof tasks, "/proc/%d/task", (int)pid);
  DIR *dir = opendir(tasks);
  if (dir == NULL)
    return;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
    pid_t tid = (pid_t)atoi(entry->d_name);
    char state = tid > 0 && tid != pid ? pdi_process_state(tid) : 'Z';
    if (state != 'Z' && state != 'X' && state != 0) {
      snprintf(out, size, "/proc/%d/task/%d", (int)pid, (int)tid);
      break;
    }
  }
  closedir(dir);
}

void
inject_target_read(inject_target_t *target, pid_t pid, const char *core)
{
  memset(target, 0, sizeof *target);
  target->pid = pid;
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
  if (access(dir, F_OK) != 0)
    inject_fail("no such process: %d", (int)pid);
  proc_view(pid, target->proc, sizeof target->proc);
  check_program(pid, target->proc);
  read_maps(target, core);
  /* Stopped before its C library was mapped (at the exec of a debugger's
   * PTRACE_TRACEME child): what it needs is to run, not another program. */
  if (target->libc[0] == '\0' && pdi_process_state(pid) == 'T')
    inject_fail("process %d is stopped before its C library was mapped: continue it first (kill -CONT %d, or fg in "
                "its shell)",
                (int)pid, (int)pid);
  if (target->libc[0] == '\0')
    inject_fail("process %d has no GNU C library mapped (statically linked, or another C library): pdi needs glibc's "
                "dlopen there",
                (int)pid);
  char file[PATH_MAX + 160];
  libc_file(target, file, sizeof file);
  elf_symbol_t found[LIBC_NAMES];
  elf_symbols(file, libc_names, LIBC_NAMES, found);
  if (found[LIBC_DLOPEN].value == 0)
    inject_fail("process %d: its C library %s exports no dlopen (glibc 2.34 or later does; older ones keep it in "
                "libdl.so.2): attaching needs glibc 2.34 or later",
                (int)pid, target->libc);
  if (found[LIBC_DLSYM].value == 0 || found[LIBC_DLERROR].value == 0)
    inject_fail("process %d: its C library %s lacks dlsym or dlerror", (int)pid, target->libc);
  target->dlopen = target->libc_bias + found[LIBC_DLOPEN].value;
  target->dlsym = target->libc_bias + found[LIBC_DLSYM].value;
  target->dlerror = target->libc_bias + found[LIBC_DLERROR].value;
  for (size_t i = 0; i < LIBC_NAMES; i++)
    if (i != LIBC_DLERROR && found[i].value != 0 && found[i].size != 0)
      add_range(&target->lock_code, target->libc_bias + found[i].value,
                target->libc_bias + found[i].value + found[i].size);
}

void
inject_core_functions(const inject_target_t *target, const char *core, const char *const *names, size_t count,
                      uintptr_t *addresses)
{
  elf_symbol_t found[4];
  memset(addresses, 0, count * sizeof *addresses);
  if (!target->core_mapped || count > sizeof found / sizeof found[0])
    return;
  elf_symbols(core, names, count, found);
  for (size_t i = 0; i < count; i++)
    addresses[i] = found[i].value != 0 ? target->core_bias + found[i].value : 0;
}
