/* pdi backend API.
 *
 * A backend is an ordinary shared object built against this header alone:
 * it links nothing of pdi. The entry points below are optional; define the
 * ones you need with exactly these spellings, e.g.
 *
 *     #include <pdi/backend.h>
 *     int PDI_BE_FUNC_INIT(const pdi_backend_t *self) { return 0; }
 *
 * The macros name the functions and export them even when the backend is
 * compiled with -fvisibility=hidden. Every function the backend calls must
 * be defined when it loads (or the load is refused, naming it); declare weak
 * one that a library loaded later brings. See docs/backends.md. */
#ifndef PDI_BACKEND_H
#define PDI_BACKEND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDI_API_VERSION 1

#define PDI_BE_EXPORT __attribute__((visibility("default")))

/* In C++ the macros name the declarations below by their namespace: a
 * definition whose parameters differ is then a compile error ("does not match
 * any declaration") instead of an overload with a C++ name that the core
 * never finds. The symbols are the same unmangled C names. */
#ifdef __cplusplus
#define PDI_BE_ENTRY(name) PDI_BE_EXPORT pdi_be_entry::name
#else
#define PDI_BE_ENTRY(name) PDI_BE_EXPORT name
#endif

#define PDI_BE_FUNC_INIT PDI_BE_ENTRY(pdi_be_init)
#define PDI_BE_FUNC_FINI PDI_BE_ENTRY(pdi_be_fini)
#define PDI_BE_FUNC_CB_REQ PDI_BE_ENTRY(pdi_be_cb_req)
#define PDI_BE_FUNC_PRE_CB PDI_BE_ENTRY(pdi_be_pre_cb)
#define PDI_BE_FUNC_POST_CB PDI_BE_ENTRY(pdi_be_post_cb)

/* What the core tells a backend about itself when it initialises it. */
typedef struct pdi_backend {
  const char *name;     /* the name the config gave it */
  const char *path;     /* the file it was loaded from */
  unsigned api_version; /* PDI_API_VERSION of the core */
} pdi_backend_t;

/* One instrumented import of one object (callback rules). */
typedef struct pdi_cb_site {
  const char *object; /* path or soname of the instrumented object */
  const char *function;
  const char *version; /* NULL when unversioned */
  const char *callee;  /* path of the object defining the function the
                          site calls (NULL if unknown); added after API 1's
                          first release, so read it only from a core that
                          fills it (this one does) */
} pdi_cb_site_t;

/* One instrumented call, from pre to post. Hooks run with errno and the
 * floating-point environment kept for the program, and with every
 * floating-point exception masked: a program's feenableexcept traps do not
 * reach a hook's own arithmetic. */
typedef struct pdi_cb_call {
  int event; /* what PDI_BE_FUNC_CB_REQ returned for the site */
  const pdi_cb_site_t *site;
  unsigned thread; /* small number, stable for the thread's life */
  unsigned depth;  /* nesting on this thread; 0 = outermost */
  uintptr_t user;  /* free for the backend, kept from pre to post */
  int abandoned;   /* post only: left by longjmp or an exception */
} pdi_cb_call_t;

/* The entry points, declared here with C linkage and exported, so that a
 * definition spelled with the macros above gets both in C and in C++ (where
 * it needs no extern "C" of its own), and a wrong prototype is a compile
 * error rather than an entry point the core never finds. */
#ifdef __cplusplus
namespace pdi_be_entry {
#endif
int pdi_be_init(const pdi_backend_t *self) PDI_BE_EXPORT;
void pdi_be_fini(void) PDI_BE_EXPORT;
int pdi_be_cb_req(const pdi_cb_site_t *site) PDI_BE_EXPORT;
void pdi_be_pre_cb(pdi_cb_call_t *call) PDI_BE_EXPORT;
void pdi_be_post_cb(pdi_cb_call_t *call) PDI_BE_EXPORT;
#ifdef __cplusplus
}
#endif

/* Helpers the core provides. A backend links nothing of pdi: the core
 * points these references at its own functions when it loads the backend,
 * whether pdi was preloaded or installed in-process by the Node addon. They
 * are declared weak so that the backend loads in either case. */
#define PDI_HELPER __attribute__((weak))

/* The function that the relink or redefine rule whose wrapper is `wrapper`
 * replaced, ready to call; NULL if no such rule was ever installed. */
PDI_HELPER void *pdi_original(const void *wrapper);

/* Callback accessors (read-only). Arguments are numbered as the ABI passes
 * them: on x86-64 and i386 a hidden struct-return pointer is integer
 * argument 0; on aarch64 it travels in x8 and is not numbered.
 *   pdi_arg_int:    i-th integer or pointer argument, from registers or the
 *                   caller's stack (valid in pre; i up to the argument
 *                   registers + 64 stack words: 69 on x86-64, 71 on aarch64,
 *                   63 on i386)
 *   pdi_arg_double: i-th floating-point argument passed in a register (pre;
 *                   i up to 7; none on i386, where a double is two stack
 *                   words for pdi_arg_int)
 *   pdi_ret_int, pdi_ret_double: the return value (post only)
 * A helper called where it has nothing to work on (a result in pre, an
 * argument or a skip in post, an index past those bounds, a stack word
 * outside the caller's stack, a floating-point argument on i386, a record
 * that is not the call a hook was given: NULL, a copy) reads 0 or does
 * nothing, and the exit report counts it, naming the backend
 * (docs/backends.md). */
PDI_HELPER uintptr_t pdi_arg_int(const pdi_cb_call_t *call, unsigned i);
PDI_HELPER double pdi_arg_double(const pdi_cb_call_t *call, unsigned i);
PDI_HELPER uintptr_t pdi_ret_int(const pdi_cb_call_t *call);
PDI_HELPER double pdi_ret_double(const pdi_cb_call_t *call);

/* Changing calls (docs/backends.md, "The API").
 *   in pre:  pdi_set_arg_int, pdi_set_arg_double change an argument (numbered
 *            as above) before the real function sees it; pdi_skip_int,
 *            pdi_skip_double do not call the real function: the caller gets
 *            `ret`, and errno as the pre hook left it; post still runs.
 *   in post: pdi_set_ret_int, pdi_set_ret_double replace the return value
 *            (pdi_set_ret_double only for a function that returns one).
 * A float argument or result travels in the low 32 bits of a register on
 * x86-64 and aarch64: the double helpers give and take its bits there (pass
 * them through a union { double d; float f; }), pdi_skip_double too; on
 * i386 a float result is in st0 and is read and set as a double.
 * A call nobody changes is restored exactly. A skip that cannot give the
 * function's result (a structure, a long double, a complex value, or an
 * integer result with pdi_skip_double and a floating-point one with
 * pdi_skip_int) is refused for the C library's and libm's functions that
 * pdi knows, and the call runs. */
PDI_HELPER void pdi_set_arg_int(pdi_cb_call_t *call, unsigned i, uintptr_t value);
PDI_HELPER void pdi_set_arg_double(pdi_cb_call_t *call, unsigned i, double value);
PDI_HELPER void pdi_skip_int(pdi_cb_call_t *call, uintptr_t ret);
PDI_HELPER void pdi_skip_double(pdi_cb_call_t *call, double ret);
PDI_HELPER void pdi_set_ret_int(pdi_cb_call_t *call, uintptr_t ret);
PDI_HELPER void pdi_set_ret_double(pdi_cb_call_t *call, double ret);

/* 64-bit integer results (long long, int64_t, off64_t): on i386 they travel
 * in edx:eax, of which pdi_ret_int, pdi_skip_int and pdi_set_ret_int see
 * eax only (pdi_skip_int returns edx 0). These read and give both halves;
 * on x86-64 and aarch64 they are the same as the uintptr_t helpers. Setting
 * edx is harmless for a function that returns 32 bits (the caller does not
 * keep it across a call), so a backend may use them for every integer
 * result. */
PDI_HELPER uint64_t pdi_ret_int64(const pdi_cb_call_t *call);
PDI_HELPER void pdi_skip_int64(pdi_cb_call_t *call, uint64_t ret);
PDI_HELPER void pdi_set_ret_int64(pdi_cb_call_t *call, uint64_t ret);

/* A rule's own generic handler (a callback rule's 5th field, allowed by
 * cb_allow_handler; docs/backends.md, "Your own handler"): the stubs of the
 * rule's sites jump to it with the caller's return address and arguments in
 * place and the site's number where each architecture says (x86-64: r11d;
 * aarch64: w16; i386: the stack word below the return address). This gives
 * that site's real function. Safe to call from a handler: no lock, no
 * allocation. */
PDI_HELPER void *pdi_cb_target(unsigned site);

#ifdef __cplusplus
}
#endif

#endif
