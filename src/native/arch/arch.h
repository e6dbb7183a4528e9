/* Everything pdi needs from the machine it runs on, in one interface.
 *
 * Each architecture is one folder, src/native/arch/<arch>/, with one file per
 * mechanism that needs the machine, and its callback handler beside the
 * callback mechanism, in src/native/callback/arch/<arch>/ (where DESIGN.md's
 * layout puts the per-architecture assembly):
 *
 *   arch/<arch>/core.c                    the ELF model's relocation facts (1)
 *   arch/<arch>/loadwatch.c               the patch that watches the loader (2)
 *   callback/arch/<arch>/callback-frame.h    the handler's frame layout    (3)
 *   callback/arch/<arch>/callback-stubs.c    the call-site stubs           (3)
 *   callback/arch/<arch>/callback-handler.S  the callback handler          (3)
 *
 * Each of those files is wrapped in `#if defined(__<arch>__)`, so the one
 * source list of binding.gyp names every port and the target's compiler keeps
 * its own (scripts/build-arch.mjs cross-builds from that same list). Portable
 * code includes this header and never tests the architecture itself.
 *
 * Porting to a new architecture is this header read as a checklist (the same
 * list is in docs/architecture.md, "Porting to a new architecture"):
 *
 *   1. section 1 in <arch>/core.c: inspect, relink and redefine then work;
 *   2. section 2 in <arch>/loadwatch.c: rules then reach dlopened objects;
 *   3. section 3 in callback/arch/<arch>/callback-*, or, to leave callback
 *      for later, a callback-frame.h that defines only CB_NO_HANDLER and stubs whose
 *      pdi_arch_stub_size() and pdi_arch_handler() return 0 (callback then
 *      refuses to install, naming the architecture);
 *   4. the port's `#elif` line in the selector below;
 *   5. the port's files in core_sources of binding.gyp;
 *   6. outside C: the ELF machine number in src/ts/elf/file.ts, Node's name
 *      for the architecture in hostMachines (src/ts/launch/program.ts), a
 *      cross compiler, qemu and sysroot in scripts/build-arch.mjs,
 *      scripts/test-arch.mjs and test/helpers/preload.ts, and their Debian
 *      packages in .ci/run: `npm run test:arch` then runs the suites there.
 */
#ifndef PDI_ARCH_H
#define PDI_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"

/* ---- 1. the ELF model (<arch>/core.c) */

/* The architecture's name as pdi reports it ("x86_64", "aarch64", "i386"):
 * in inspect reports and as the addon's `arch`, compared by the TypeScript
 * front with the machine of the ELF files it is asked to launch. */
PDI_HIDDEN const char *pdi_arch_name(void);

/* The PDI_SLOT_* kind of a dynamic relocation type: the jump slot, GLOB_DAT,
 * absolute word and COPY relocations; 0 for every type that does not store a
 * named symbol's address in a slot (relative, TLS, IRELATIVE, ...). */
PDI_HIDDEN unsigned pdi_arch_slot_kind(unsigned reloc_type);

/* Whether `value`, read from a PDI_SLOT_JUMP_SLOT slot, still points at the
 * object's own lazy-binding PLT code, i.e. the slot is unbound (where that
 * code names its slot, as x86's `push` does, it must name this one). Reads
 * code only after pdi_object_in_code() vouches for it. */
PDI_HIDDEN int pdi_arch_is_lazy_stub(const pdi_object_t *object, const pdi_slot_t *slot, uintptr_t value);

/* Runs an IFUNC resolver with the arguments ld.so gives it on this
 * architecture and returns the implementation it picks. */
PDI_HIDDEN uintptr_t pdi_arch_call_ifunc_resolver(uintptr_t resolver);

/* ---- 2. the load watch (<arch>/loadwatch.c) */

/* Makes the loader's debug hook at `from` (_dl_debug_state: a bare return,
 * then padding) branch to `to`, leaving the caller's return address where the
 * return found it, so `to` returns to the loader itself. The patch must be
 * safe against a thread running that code meanwhile. 0, or -1 with
 * pdi_set_error() when the code there is not the expected return or `to` is
 * out of reach. */
PDI_HIDDEN int pdi_arch_redirect_code(uintptr_t from, uintptr_t to);

/* ---- 3. callback (callback/arch/<arch>/callback-frame.h, callback-stubs.c, callback-handler.S)
 *
 * Every import an object makes through a callback rule is pointed at a stub.
 * The stub hands its site index to the handler without disturbing any
 * argument. The handler saves the argument registers in a frame on the
 * program stack and calls
 *
 *   pdi_cb_entry_t *pdi_cb_pre(uintptr_t *frame)      (callback/callback.h)
 *
 * which stores the real function at CB_FRAME_TARGET and returns the call's
 * callback stack entry, or NULL: then the handler restores everything and
 * jumps to the real function with the caller's return address in place. With
 * an entry, it keeps the entry in a callee-saved register (whose caller value
 * goes to the entry's second word; the first holds the caller's return
 * address), restores the arguments, drops the return address and calls the
 * real function with the stack exactly as the caller left it. On return it
 * saves the result registers in a return area and calls
 *
 *   uintptr_t pdi_cb_post(pdi_cb_entry_t *entry, const unsigned char *returns)
 *
 * restores the results and the callee-saved register and returns to the
 * address pdi_cb_post gives. Both paths (the handler's own and the C ones)
 * run a hook through pdi_cb_run_hook (callback/callback.h), which the port's
 * callback-handler.S defines: it keeps the floating-point environment (the
 * control and status registers) as it was around the hook. Its CFI reads the caller's return address and
 * register from the entry, so unwinders, backtrace() and C++ exceptions walk
 * through it. Neither path may touch a register the platform reserves. */

/* Bytes per stub; 0 when the port has no handler yet. */
PDI_HIDDEN size_t pdi_arch_stub_size(void);

/* Encodes at `at` the stub of site `index`, which jumps to the handler whose
 * address is stored at handler_pointer_address (the start of the stub pool).
 * 0, or -1 when the index or the distance cannot be encoded. */
PDI_HIDDEN int pdi_arch_write_stub(unsigned char *at, unsigned index, uintptr_t handler_pointer_address);

/* The handler for this CPU (a port may have variants by CPU feature); 0 when
 * the port has no handler yet. */
PDI_HIDDEN uintptr_t pdi_arch_handler(void);
/* Whether the code at `function` returns at once: a hook compiled from an
 * empty body (`ret`, maybe after a landing pad such as endbr64 or bti c).
 * Calling it changes nothing, so sites treat it as no hook at all. */
PDI_HIDDEN int pdi_arch_returns_at_once(uintptr_t function);
/* What the handler word of a site with neither hook holds, so its calls
 * reach `target` without the handler: the target itself where the stub
 * leaves every argument register and the stack as the caller made them, or
 * a pass-through that undoes what the stub did (i386 pushes the index). */
PDI_HIDDEN uintptr_t pdi_arch_pass_word(uintptr_t target);
/* Why this process cannot take callback stubs, or NULL: a hardware shadow
 * stack (x86 CET, arm64 GCS) kills a process whose returns do not match its
 * calls. The handlers return to the caller with a return instruction, so
 * they should hold, but no machine pdi is tested on enforces one. */
PDI_HIDDEN const char *pdi_arch_callback_blocker(void);

/* The port's callback-frame.h, shared with its callback-handler.S. */
#if defined(__x86_64__)
#include "../callback/arch/x86_64/callback-frame.h"
#elif defined(__aarch64__)
#include "../callback/arch/aarch64/callback-frame.h"
#elif defined(__i386__)
#include "../callback/arch/i386/callback-frame.h"
#else
#error "pdi has no port to this architecture: src/native/arch/arch.h lists what one needs"
#endif

/* What callback-frame.h defines, as byte offsets from the frame pointer the
 * handler passes to pdi_cb_pre (its lowest address):
 *
 *   CB_FRAME_SIZE           the frame's size
 *   CB_FRAME_SITE           the word holding the stub's site index
 *   CB_FRAME_TARGET         the word pdi_cb_pre fills with the real function
 *   CB_FRAME_REGISTERS      the integer argument registers, in order, a word each
 *   CB_INT_REGISTERS        how many integer arguments travel in registers
 *   CB_FRAME_VECTORS        floating-point argument registers 0-7, or -1 when
 *   CB_FRAME_VECTOR_STRIDE  doubles travel on the stack; and their spacing
 *   CB_STACK_POINTER(frame) the stack pointer the real function gets on entry
 *                           (optional: frame + CB_FRAME_SIZE by default)
 *   CB_STACK_ARGUMENTS(sp)  the first stack argument, from that stack pointer
 *   CB_RETURN_ADDRESS(frame, sp)  the caller's return address
 *
 * and as byte offsets in the return area given to pdi_cb_post:
 *
 *   CB_RETURN_RAX           the integer result register (rax, x0, eax)
 *   CB_RETURN_XMM0          the floating-point result register (xmm0, q0)
 *   CB_RETURN_X87_DOUBLE    instead, where a double comes back in x87 st0: the
 *                           80-bit value (optional)
 *
 * callback-handler.S puts all handler code between the hidden labels
 * pdi_cb_handlers_begin and pdi_cb_handlers_end: a call returning there was
 * made by the handler itself, which is how callback tells a tail call from
 * a frame that longjmp or an exception left. */
#if defined(CB_NO_HANDLER)
#define CB_FRAME_REGISTERS 0
#define CB_FRAME_SITE 0
#define CB_FRAME_TARGET 8
#define CB_FRAME_VECTORS 16
#define CB_FRAME_VECTOR_STRIDE 16
#define CB_FRAME_SIZE 32
#define CB_RETURN_RAX 0
#define CB_RETURN_XMM0 16
#define CB_INT_REGISTERS 6
#define CB_STACK_ARGUMENTS(stack_pointer) ((const uintptr_t *)(stack_pointer))
#define CB_RETURN_ADDRESS(frame, stack_pointer) (*(const uintptr_t *)(stack_pointer))
#define CB_INSIDE_HANDLERS(address) ((void)(address), 0)
#else
#if !defined(CB_FRAME_SIZE) || !defined(CB_FRAME_SITE) || !defined(CB_FRAME_TARGET) || !defined(CB_FRAME_REGISTERS) || \
    !defined(CB_INT_REGISTERS) || !defined(CB_FRAME_VECTORS) || !defined(CB_FRAME_VECTOR_STRIDE) ||                    \
    !defined(CB_STACK_ARGUMENTS) || !defined(CB_RETURN_ADDRESS) || !defined(CB_RETURN_RAX) ||                          \
    (!defined(CB_RETURN_XMM0) && !defined(CB_RETURN_X87_DOUBLE))
#error "the port's callback-frame.h lacks a fact src/native/arch/arch.h lists"
#endif
PDI_HIDDEN extern const char pdi_cb_handlers_begin[];
PDI_HIDDEN extern const char pdi_cb_handlers_end[];
#define CB_INSIDE_HANDLERS(address)                                                                                    \
  ((address) >= (uintptr_t)pdi_cb_handlers_begin && (address) < (uintptr_t)pdi_cb_handlers_end)
#endif

#ifndef CB_STACK_POINTER
#define CB_STACK_POINTER(frame) ((uintptr_t)(frame) + CB_FRAME_SIZE)
#endif

#endif
