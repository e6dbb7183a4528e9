#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>

#include "../arch/arch.h"
#include "callback.h"
#include "records.h"
#include "sites.h"

/* A word of the handler's frame, by byte offset. */
#define CB_AT(frame, offset) (*(uintptr_t *)((char *)(frame) + (offset)))

static pdi_cb_limits_t limits;
static int prepared;
static unsigned char *pool;
static size_t pool_size;
static size_t pool_page;     /* stubs come in groups of a page, each followed by a page of their handler words */
static unsigned group_stubs; /* stubs per group */
static size_t stub_bytes;    /* pdi_arch_stub_size(), asked once */
static uintptr_t generic_handler;
static unsigned stub_count;
static unsigned used_stubs;
/* Global for the handlers' fast paths and the i386 pass-through, which index it. */
PDI_HIDDEN cb_site_t *pdi_cb_sites;
static cb_thread_t *threads;
static unsigned long skipped_no_thread;
static unsigned long skipped_stack_full;
static unsigned long hooks_left_by_jumps;
PDI_HIDDEN size_t pdi_cb_page_size = 4096;
PDI_HIDDEN uintptr_t pdi_cb_entries_start;
PDI_HIDDEN size_t pdi_cb_entries_size;
static pthread_key_t thread_key;

/* Initial-exec: the hot path must not go through __tls_get_addr, which may
 * allocate on a thread's first access in a dlopened module. Global for the
 * handler's fast path. */
PDI_HIDDEN __thread cb_thread_t *pdi_cb_current __attribute__((tls_model("initial-exec")));

static void abandon_top(cb_thread_t *thread);

/* Thread exit: frames it never returned from get their post, abandoned. */
static void
release_thread(void *slot)
{
  cb_thread_t *thread = slot;
  /* A thread that ends inside pdi (cancelled asynchronously in a hook) left
   * that hook half done: running the backend's hooks again on it would
   * re-enter the backend mid-call. Its open frames get no post. */
  if (thread->in_hook)
    thread->depth = 0;
  while (thread->depth > 0)
    abandon_top(thread);
  thread->in_hook = 0;
  pdi_cb_current = NULL;
  __atomic_store_n(&thread->in_use, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&thread->owner, 0, __ATOMIC_RELEASE);
}

/* A forked child has only the thread that forked: the other slots, their
 * open frames (never to be posted here) and the counts of calls without
 * hooks belong to the parent, which reports them. The child starts with the
 * forking thread's slot alone taken and counts its own calls. */
static void
forget_parent_threads(void)
{
  for (unsigned i = 0; i < limits.max_threads; i++) {
    if (&threads[i] == pdi_cb_current || !__atomic_load_n(&threads[i].owner, __ATOMIC_RELAXED))
      continue;
    threads[i].depth = 0;
    __atomic_store_n(&threads[i].in_use, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&threads[i].owner, 0, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&skipped_no_thread, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&skipped_stack_full, 0, __ATOMIC_RELAXED);
  pdi_cb_forget_helpers();
}

static unsigned char *
stub_at(unsigned index)
{
  return pool + (size_t)(index / group_stubs) * 2 * pool_page + (size_t)(index % group_stubs) * stub_bytes;
}

/* Where stub `index` finds the handler it jumps to: the generic one, or a rule's own. */
static uintptr_t *
handler_word(unsigned index)
{
  return (uintptr_t *)(pool + (size_t)(index / group_stubs) * 2 * pool_page + pool_page) + index % group_stubs;
}

/* The pool is reserved whole and each group of stubs written once, when its
 * first stub is handed out, and then only executed: pages of stubs that are
 * never used are never touched (a fault costs tens of microseconds in a
 * virtual machine). Each stub jumps through its own handler word, in a page
 * of its group that stays writable as a GOT does, which holds the generic
 * handler until a rule names its own. */
static int
map_stub_pool(size_t stub_size)
{
  pool_page = (size_t)getauxval(AT_PAGESZ);
  pdi_cb_page_size = pool_page;
  group_stubs = (unsigned)(pool_page / stub_size);
  size_t groups = (limits.max_stubs + group_stubs - 1) / group_stubs;
  pool_size = groups * 2 * pool_page;
  pool = mmap(NULL, pool_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pool == MAP_FAILED) {
    pdi_set_error("cannot map %zu MiB for cb_max_stubs = %u callback stubs (cbMaxStubs in JSON/YAML): %s",
                  (pool_size + (1 << 20) - 1) >> 20, limits.max_stubs, strerror(errno));
    return -1;
  }
  stub_count = limits.max_stubs;
  return 0;
}

/* Writes the group that stub `first` opens, and makes its stubs executable. */
static int
write_stub_group(unsigned first)
{
  unsigned end = first + group_stubs < stub_count ? first + group_stubs : stub_count;
  for (unsigned i = first; i < end; i++) {
    *handler_word(i) = generic_handler;
    if (pdi_arch_write_stub(stub_at(i), i, (uintptr_t)handler_word(i)) != 0) {
      pdi_set_error("cannot encode callback stub %u", i);
      return -1;
    }
  }
  __builtin___clear_cache((char *)stub_at(first), (char *)stub_at(first) + pool_page);
  if (mprotect(stub_at(first), pool_page, PROT_READ | PROT_EXEC) != 0) {
    pdi_set_error("cannot make the callback stubs executable: %s", strerror(errno));
    return -1;
  }
  return 0;
}

int
pdi_cb_prepare(const pdi_cb_limits_t *wanted)
{
  if (prepared)
    return 0;
  const char *blocker = pdi_cb_blocker();
  if (blocker != NULL) {
    pdi_set_error("callback refused: %s", blocker);
    return -1;
  }
  size_t stub_size = pdi_arch_stub_size();
  uintptr_t handler = pdi_arch_handler();
  if (stub_size == 0 || handler == 0) {
    pdi_set_error("callback is not available on %s yet", pdi_arch_name());
    return -1;
  }
  limits = *wanted;
  pdi_cb_names_build();
  size_t entries_per_thread = limits.stack_size / sizeof(pdi_cb_entry_t);
  if (entries_per_thread == 0)
    entries_per_thread = 1;
  /* In 64 bits, so that a 32-bit size_t cannot wrap around to a small mapping. */
  unsigned long long thread_bytes = (unsigned long long)limits.max_threads *
                                    ((unsigned long long)sizeof(cb_thread_t) +
                                     (unsigned long long)entries_per_thread * sizeof(pdi_cb_entry_t));
  size_t site_bytes = (size_t)limits.max_stubs * sizeof(cb_site_t);
  void *thread_memory = thread_bytes > SIZE_MAX ? MAP_FAILED
                                                : mmap(NULL, (size_t)thread_bytes, PROT_READ | PROT_WRITE,
                                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (thread_memory == MAP_FAILED) {
    pdi_set_error("cannot map %llu MiB for max_threads = %u callback stacks of cb_stack_size = %zu bytes (maxThreads, "
                  "cbStackSize in JSON/YAML): %s",
                  (thread_bytes + (1 << 20) - 1) >> 20, limits.max_threads, limits.stack_size,
                  thread_bytes > SIZE_MAX ? "more than the address space" : strerror(errno));
    return -1;
  }
  pdi_cb_sites = mmap(NULL, site_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  generic_handler = handler;
  stub_bytes = stub_size;
  if (pdi_cb_sites == MAP_FAILED || map_stub_pool(stub_size) != 0) {
    if (pdi_cb_sites == MAP_FAILED)
      pdi_set_error("cannot map %zu MiB for cb_max_stubs = %u callback sites (cbMaxStubs in JSON/YAML): %s",
                    (site_bytes + (1 << 20) - 1) >> 20, limits.max_stubs, strerror(errno));
    else
      munmap(pdi_cb_sites, site_bytes);
    munmap(thread_memory, (size_t)thread_bytes);
    pdi_cb_sites = NULL;
    return -1;
  }
  threads = thread_memory;
  pdi_cb_entry_t *entries = (pdi_cb_entry_t *)(threads + limits.max_threads);
  for (unsigned i = 0; i < limits.max_threads; i++) {
    threads[i].index = i;
    threads[i].capacity = (unsigned)entries_per_thread;
    threads[i].entries = entries + (size_t)i * entries_per_thread;
  }
  pdi_cb_entries_start = (uintptr_t)entries;
  pdi_cb_entries_size = (size_t)limits.max_threads * entries_per_thread * sizeof(pdi_cb_entry_t);
  /* num_threads slots are touched now, so their pages exist before main. */
  for (unsigned i = 0; i < limits.num_threads && i < limits.max_threads; i++)
    memset(threads[i].entries, 0, entries_per_thread * sizeof(pdi_cb_entry_t));
  if (pthread_key_create(&thread_key, release_thread) != 0) {
    pdi_set_error("cannot create the callback thread key");
    return -1;
  }
  if (pthread_atfork(NULL, NULL, forget_parent_threads) != 0) {
    pdi_set_error("cannot register the callback fork handler");
    return -1;
  }
  prepared = 1;
  return 0;
}

unsigned
pdi_cb_free_stubs(void)
{
  return prepared ? stub_count - used_stubs : 0;
}

/* The site a stub would serve, with hooks that return at once dropped. */
static cb_site_t
wanted_site(uintptr_t target, int event, const pdi_cb_site_t *site, const pdi_cb_hooks_t *hooks)
{
  cb_site_t wanted = {.target = target, .event = event, .site = *site, .hooks = *hooks};
  if (wanted.hooks.pre != NULL && pdi_arch_returns_at_once((uintptr_t)wanted.hooks.pre))
    wanted.hooks.pre = NULL;
  if (wanted.hooks.post != NULL && pdi_arch_returns_at_once((uintptr_t)wanted.hooks.post))
    wanted.hooks.post = NULL;
  return wanted;
}

int
pdi_cb_site_has_stub(uintptr_t target, int event, const pdi_cb_site_t *site, const pdi_cb_hooks_t *hooks)
{
  if (!prepared)
    return 0;
  cb_site_t wanted = wanted_site(target, event, site, hooks);
  return pdi_cb_site_find(pdi_cb_sites, &wanted) >= 0;
}

uintptr_t
pdi_cb_add_site(uintptr_t target, int event, const pdi_cb_site_t *site, const pdi_cb_hooks_t *hooks,
                pdi_cb_kept_strings_t *batch)
{
  if (!prepared)
    return 0;
  cb_site_t wanted = wanted_site(target, event, site, hooks);
  /* A stub that does exactly this already (an earlier install of the same rule) is taken again. */
  long existing = pdi_cb_site_find(pdi_cb_sites, &wanted);
  if (existing >= 0)
    return (uintptr_t)stub_at((unsigned)existing);
  unsigned index = used_stubs;
  if (index == stub_count || pdi_cb_site_keep(&wanted.site, site, batch) != 0)
    return 0;
  if (index % group_stubs == 0 && write_stub_group(index) != 0)
    return 0;
  pdi_cb_sites[index] = wanted;
  if (hooks->handler != 0)
    __atomic_store_n(handler_word(index), hooks->handler, __ATOMIC_RELEASE);
  else if (wanted.hooks.pre == NULL && wanted.hooks.post == NULL)
    __atomic_store_n(handler_word(index), pdi_arch_pass_word(target), __ATOMIC_RELEASE);
  pdi_cb_site_remember(pdi_cb_sites, index, stub_count);
  __atomic_store_n(&used_stubs, index + 1, __ATOMIC_RELEASE);
  return (uintptr_t)stub_at(index);
}

const pdi_cb_hooks_t *
pdi_cb_stub_site(uintptr_t address, uintptr_t *target)
{
  size_t offset = address - (uintptr_t)pool, group = 2 * pool_page, size = stub_bytes, i;
  if (!prepared || address < (uintptr_t)pool || offset >= pool_size || offset % group % size != 0 ||
      offset % group / size >= group_stubs ||
      (i = offset / group * group_stubs + offset % group / size) >= __atomic_load_n(&used_stubs, __ATOMIC_ACQUIRE))
    return NULL;
  *target = pdi_cb_sites[i].target;
  return &pdi_cb_sites[i].hooks;
}

void
pdi_cb_pass_all(void)
{
  if (!prepared)
    return;
  unsigned used = __atomic_load_n(&used_stubs, __ATOMIC_ACQUIRE);
  for (unsigned i = 0; i < used; i++)
    __atomic_store_n(handler_word(i), pdi_arch_pass_word(pdi_cb_sites[i].target), __ATOMIC_RELEASE);
}

/* The slot this thread's claim took or tried last, so that a claim left by a
 * signal handler's jump (siglongjmp) is taken up again instead of losing its
 * slot for good: the next claim finds the slot's owner is this thread. */
static __thread cb_thread_t *claiming __attribute__((tls_model("initial-exec")));

static cb_thread_t *
claim_thread(void)
{
  uintptr_t me = (uintptr_t)&pdi_cb_current;
  cb_thread_t *thread = claiming;
  if (thread == NULL || __atomic_load_n(&thread->owner, __ATOMIC_ACQUIRE) != me) {
    thread = NULL;
    for (unsigned i = 0; i < limits.max_threads && thread == NULL; i++) {
      uintptr_t expected = 0;
      claiming = &threads[i];
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      if (__atomic_load_n(&threads[i].owner, __ATOMIC_RELAXED) == 0 &&
          __atomic_compare_exchange_n(&threads[i].owner, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        thread = &threads[i];
    }
    if (thread == NULL)
      return NULL;
  }
  thread->depth = 0;
  thread->in_hook = 0;
  thread->error = &errno;
  /* Every entry of the slot names it, once: no call writes call.thread. */
  for (unsigned e = 0; e < thread->capacity; e++)
    thread->entries[e].call.thread = thread->index;
  __atomic_store_n(&thread->in_use, 1, __ATOMIC_RELEASE);
  pthread_setspecific(thread_key, thread);
  pdi_cb_current = thread;
  return thread;
}

/* The thread's pdi code runs as hooks do, with its own instrumented calls
 * (and a signal handler's) going straight to their functions; the fences
 * keep the compiler from moving the entry's writes out of that span. */
static void
enter_pdi(cb_thread_t *thread, uintptr_t stack_pointer)
{
  thread->entered_at = stack_pointer;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  thread->in_hook = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void
leave_pdi(cb_thread_t *thread)
{
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  thread->in_hook = 0;
}

/* Runs a hook with errno and the floating-point environment kept as they
 * were; returns the errno the hook left. The thread is inside pdi (in_hook)
 * while it runs, and stays so when the caller had marked it already. */
static int
run_hook_on(cb_thread_t *thread, int *error, void (*hook)(pdi_cb_call_t *), pdi_cb_call_t *call)
{
  int saved_errno = *error;
  if (hook == NULL)
    return saved_errno;
  int was_inside = thread->in_hook;
  if (!was_inside)
    enter_pdi(thread, (uintptr_t)__builtin_frame_address(0));
  pdi_cb_run_hook(call, hook);
  thread->in_hook = was_inside;
  int hook_errno = *error;
  *error = saved_errno;
  return hook_errno;
}

static int
run_hook(cb_thread_t *thread, void (*hook)(pdi_cb_call_t *), pdi_cb_call_t *call)
{
  return run_hook_on(thread, thread->error, hook, call);
}

/* The site record a call belongs to. */
static cb_site_t *
site_of(const pdi_cb_call_t *call)
{
  return (cb_site_t *)((uintptr_t)call->site - offsetof(cb_site_t, site));
}

/* A frame left by longjmp or an exception gets its post now, once, with
 * errno kept at `error` (the errno of the thread that runs the hook). */
static void
abandon_top_on(cb_thread_t *thread, int *error)
{
  pdi_cb_entry_t *entry = &thread->entries[thread->depth - 1];
  const cb_site_t *site = site_of(&entry->call);
  entry->call.abandoned = 1;
  entry->registers = NULL;
  entry->returns = NULL;
  run_hook_on(thread, error, site->hooks.post, &entry->call);
  thread->depth--;
}

static void
abandon_top(cb_thread_t *thread)
{
  abandon_top_on(thread, thread->error);
}

/* in_hook of a thread whose frames the exiting thread took over. */
#define CB_CLAIMED_AT_EXIT 2

/* At exit, the open frames of the other threads, which may still be
 * running: only once each is outside pdi and its hooks, and claimed for good
 * (its later calls go straight to their functions, its returns touch
 * nothing), so that no post runs beside that thread's own pre or post of the
 * same call. A thread that read its state just before the claim may still
 * mark itself and run a hook: after a pause, one that did keeps its frames.
 * So does one that stays inside a hook for the 100 ms the claims may take. */
static void
abandon_other_threads(void)
{
  struct timespec pause = {0, 100 * 1000};
  int claimed = 0;
  for (int round = 0; round <= 1000; round++) {
    int waiting = 0;
    for (unsigned i = 0; i < limits.max_threads; i++) {
      cb_thread_t *thread = &threads[i];
      int outside = 0;
      if (thread == pdi_cb_current || !__atomic_load_n(&thread->in_use, __ATOMIC_ACQUIRE) ||
          __atomic_load_n(&thread->in_hook, __ATOMIC_ACQUIRE) == CB_CLAIMED_AT_EXIT)
        continue;
      if (__atomic_compare_exchange_n(&thread->in_hook, &outside, CB_CLAIMED_AT_EXIT, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_RELAXED))
        claimed = 1;
      else
        waiting = 1;
    }
    if (!waiting || round == 1000)
      break;
    nanosleep(&pause, NULL);
  }
  if (!claimed)
    return;
  pause.tv_nsec = 1000 * 1000;
  nanosleep(&pause, NULL);
  for (unsigned i = 0; i < limits.max_threads; i++) {
    cb_thread_t *thread = &threads[i];
    if (thread == pdi_cb_current || !__atomic_load_n(&thread->in_use, __ATOMIC_ACQUIRE))
      continue;
    while (__atomic_load_n(&thread->in_hook, __ATOMIC_ACQUIRE) == CB_CLAIMED_AT_EXIT && thread->depth > 0)
      abandon_top_on(thread, &errno);
  }
}

/* Whether a new call at stack_pointer, returning to return_address, shows
 * that the thread left the open frame at open_stack_pointer without returning
 * through the handler (longjmp, an exception). A call above that stack pointer
 * does (not one on the alternate signal stack above a frame off it); so does
 * one at the same stack pointer, unless it returns into the handler: then the
 * function the handler called ended in a jump to another instrumented function
 * (a tail call, as -O2 emits for `return f(x);`), its frame is still live and
 * the new call nests in it, returning through the same handler frame. */
static int
stack_was_left(uintptr_t open_stack_pointer, uintptr_t stack_pointer, uintptr_t return_address)
{
  if (open_stack_pointer != stack_pointer)
    return open_stack_pointer < stack_pointer && !pdi_cb_on_other_signal_stack(open_stack_pointer, stack_pointer);
  return !CB_INSIDE_HANDLERS(return_address);
}

/* Whether a thread marked inside pdi (in_hook) left it without coming back:
 * a signal handler that interrupted a hook, or pdi's own code around one, and
 * ended in siglongjmp (or longjmp, or an exception) to code above the call
 * that marked it (entered_at; at that stack pointer too: the loop that made
 * the call makes the next one). A hook's own calls, and a signal handler's on
 * the same stack, lie below it; one on the alternate signal stack may lie
 * anywhere. The mark at exit (CB_CLAIMED_AT_EXIT) is another thread's and
 * stays. Only calls made inside pdi come here, which are rare. */
static int
hook_was_left(cb_thread_t *thread, uintptr_t stack_pointer, uintptr_t return_address)
{
  if (thread->in_hook != 1 || !stack_was_left(thread->entered_at, stack_pointer, return_address))
    return 0;
  thread->in_hook = 0;
  __atomic_fetch_add(&hooks_left_by_jumps, 1, __ATOMIC_RELAXED);
  return 1;
}

pdi_cb_entry_t *
pdi_cb_pre(uintptr_t *frame)
{
  size_t index = (size_t)(uint32_t)CB_AT(frame, CB_FRAME_SITE);
  cb_site_t *site = &pdi_cb_sites[index];
  CB_AT(frame, CB_FRAME_TARGET) = site->target;
  cb_thread_t *thread = pdi_cb_current;
  if (thread == NULL && (thread = claim_thread()) == NULL) {
    __atomic_fetch_add(&skipped_no_thread, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  uintptr_t stack_pointer = CB_STACK_POINTER(frame);
  uintptr_t return_address = CB_RETURN_ADDRESS(frame, stack_pointer);
  if (thread->in_hook && !hook_was_left(thread, stack_pointer, return_address))
    return NULL;
  /* Inside pdi from here on, as in a hook: a signal handler's instrumented
   * call goes straight to its function instead of taking the entry being
   * built or popped. */
  enter_pdi(thread, stack_pointer);
  while (thread->depth > 0 &&
         stack_was_left(thread->entries[thread->depth - 1].stack_pointer, stack_pointer, return_address))
    abandon_top(thread);
  if (thread->depth == thread->capacity) {
    __atomic_fetch_add(&skipped_stack_full, 1, __ATOMIC_RELAXED);
    leave_pdi(thread);
    return NULL;
  }
  /* The entry stays pushed only for a call that comes back through the
   * handler: one with a post hook, or a skipped one (the skip stub reads the
   * entry). */
  pdi_cb_entry_t *entry = &thread->entries[thread->depth];
  entry->return_address = return_address;
  entry->target = site->target;
  entry->stack_pointer = stack_pointer;
  entry->registers = (uintptr_t *)((char *)frame + CB_FRAME_REGISTERS);
  entry->vectors = CB_FRAME_VECTORS < 0 ? NULL : (unsigned char *)frame + CB_FRAME_VECTORS;
  entry->returns = NULL;
  entry->skipped = 0;
  entry->call.event = site->event;
  entry->call.site = &site->site;
  entry->call.depth = thread->depth;
  entry->call.user = 0;
  entry->call.abandoned = 0;
  thread->depth++;
  int hook_errno = run_hook(thread, site->hooks.pre, &entry->call);
  entry->registers = NULL;
  entry->vectors = NULL;
  if (site->hooks.post == NULL && !entry->skipped) {
    thread->depth--;
    leave_pdi(thread);
    return NULL;
  }
  if (entry->skipped) {
    /* Nothing runs between here and the skip stub's return that could change it: the caller sees it. */
    *thread->error = hook_errno;
    /* The handler calls the stub instead (x86-64 and aarch64 from the frame, i386 from the entry). */
    uintptr_t stub = entry->skipped == 2 ? (uintptr_t)&pdi_cb_skip_double : (uintptr_t)&pdi_cb_skip_int;
    CB_AT(frame, CB_FRAME_TARGET) = stub;
    entry->target = stub;
  }
  leave_pdi(thread);
  return entry;
}

uintptr_t
pdi_cb_post(pdi_cb_entry_t *entry, unsigned char *returns)
{
  cb_thread_t *thread = pdi_cb_current;
  uintptr_t return_address = entry->return_address;
  if (thread == NULL || __atomic_load_n(&thread->in_hook, __ATOMIC_ACQUIRE) == CB_CLAIMED_AT_EXIT)
    return return_address;
  enter_pdi(thread, entry->stack_pointer);
  while (thread->depth > 0 && &thread->entries[thread->depth - 1] != entry)
    abandon_top(thread);
  if (thread->depth > 0) {
    entry->returns = returns;
    run_hook(thread, site_of(&entry->call)->hooks.post, &entry->call);
    entry->returns = NULL;
    thread->depth--;
  }
  leave_pdi(thread);
  return return_address;
}

void
pdi_cb_finish(int process_ends)
{
  if (!prepared)
    return;
  /* Another thread's frames are its own while it runs: popping them from here
   * would race with its handler, and post its call before it returned. When
   * the process ends they get their posts all the same, each once, and never
   * beside a hook of that thread (abandon_other_threads). */
  if (process_ends) {
    cb_thread_t *own = pdi_cb_current;
    while (own != NULL && own->depth > 0)
      abandon_top(own);
    abandon_other_threads();
  }
  unsigned long no_thread = __atomic_load_n(&skipped_no_thread, __ATOMIC_RELAXED);
  unsigned long stack_full = __atomic_load_n(&skipped_stack_full, __ATOMIC_RELAXED);
  if (no_thread)
    pdi_log(PDI_LOG_WARNING,
            "callback: %lu calls ran without hooks, on threads beyond max_threads = %u (maxThreads in JSON/YAML)",
            no_thread, limits.max_threads);
  unsigned long left = __atomic_load_n(&hooks_left_by_jumps, __ATOMIC_RELAXED);
  if (left)
    pdi_log(PDI_LOG_WARNING,
            "callback: %lu %s out of a hook or out of pdi's code around one (siglongjmp); the calls "
            "left so got an abandoned post, and later calls had their hooks again",
            left, left == 1 ? "signal handler jumped" : "signal handlers jumped");
  if (stack_full)
    pdi_log(PDI_LOG_WARNING,
            "callback: %lu calls ran without hooks, nested deeper than cb_stack_size = %zu bytes holds (%zu calls; "
            "cbStackSize in JSON/YAML)",
            stack_full, limits.stack_size, limits.stack_size / sizeof(pdi_cb_entry_t));
}

void *
pdi_cb_target_impl(unsigned site)
{
  return site < __atomic_load_n(&used_stubs, __ATOMIC_ACQUIRE) ? (void *)pdi_cb_sites[site].target : NULL;
}
