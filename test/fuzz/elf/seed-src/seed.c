/* The source of the ELF fuzz target's seeds (test/fuzz/Makefile.inc links it
 * in several ways): a few exports, one of them in two versions, and imports
 * through the PLT (strlen, write), through the GOT (a data object, a
 * function pointer) and by absolute address, so that every slot kind and both
 * hash tables are in the seeds. Kept small: afl-fuzz mutates every byte. */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int seed_counter = 1;
size_t (*seed_measure)(const char *) = strlen;

int
seed_add(int a, int b)
{
  return a + b + seed_counter;
}

long
seed_say(const char *text)
{
  return write(1, text, strlen(text)) + (long)(environ != NULL);
}

#ifdef SEED_VERSIONS
__asm__(".symver seed_old, seed_twice@V1");
__asm__(".symver seed_new, seed_twice@@V2");
int
seed_old(int x)
{
  return x * 2;
}
int
seed_new(int x)
{
  return x + x + (int)seed_measure("");
}
#endif
