/* Where callback.c's records keep what a handler's fast path reads and
 * writes (a call's entry, its thread, its site), on the 64-bit ports: the
 * layout follows from the C structs and the LP64 data model alone.
 * callback.c checks every offset with _Static_assert when the port defines
 * CB_FAST_PATH. */
#ifndef PDI_LP64_RECORDS_H
#define PDI_LP64_RECORDS_H

#define CB_ENTRY_SIZE 120
#define CB_ENTRY_RETURN_ADDRESS 0
#define CB_ENTRY_TARGET 16
#define CB_ENTRY_STACK_POINTER 40
#define CB_ENTRY_REGISTERS 48
#define CB_ENTRY_VECTORS 56
#define CB_ENTRY_RETURNS 64
#define CB_ENTRY_SKIPPED 72
#define CB_ENTRY_CALL 80
#define CB_ENTRY_EVENT 80
#define CB_ENTRY_SITE 88
#define CB_ENTRY_DEPTH 100
#define CB_ENTRY_USER 104
#define CB_ENTRY_ABANDONED 112
#define CB_THREAD_ERROR 8
#define CB_THREAD_IN_HOOK 16
#define CB_THREAD_DEPTH 20
#define CB_THREAD_CAPACITY 24
#define CB_THREAD_ENTRIES 32
#define CB_THREAD_ENTERED_AT 40
#define CB_SITE_SIZE 88
#define CB_SITE_TARGET 0
#define CB_SITE_EVENT 8
#define CB_SITE_SITE 24
#define CB_SITE_PRE 64
#define CB_SITE_POST 72

#endif
