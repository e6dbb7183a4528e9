// What `npm run lint` does not hold to the format and size rules yet.
//
// Issue 11 moves and splits these on other branches. Once those have landed, the
// lead formats each one (`clang-format -i FILE`, `npx eslint --fix FILE`), fixes
// what is left and removes its line here; an empty list is the strict state. Until
// then the lint step still checks them, but reports instead of failing: ESLint
// findings are warnings, clang-format and the structure check print `pending:`
// lines. Compiler warnings are never pending. A path ending in '/' is a folder.
export const pending = [
	// item 1: session.c (1,100 lines) splits into session/backends.c, callback selection and the lifecycle
	'src/native/session/',
	// items 1 and 5: config.c (1,370 lines) gets the arena-backed array and the generated option table
	'src/native/config/',
	// items 1 and 4: callback site selection moves in; per-architecture code moves behind arch.h
	'src/native/callback/',
	// item 2: the load watch becomes a lower layer with on-load and on-unload callbacks
	'src/native/loadwatch/',
	// item 4: per-architecture folders
	'src/native/core/arch/',
	// item 2: reads the warnings pdi_session_open returns
	'src/native/preload/',
	// comux-accept.c is 840 lines and is being split
	'src/native/backends/comux-accept/',
	// core.h, error.c and resolve.c change with items 1, 4 and 8
	'src/native/core/core.h',
	'src/native/core/error.c',
	'src/native/core/resolve.c',
	// the addon binds what items 1, 2 and 5 change
	'src/native/addon/',
	// item 6 may touch the public header's comments
	'include/',
	// item 3: one launch() primitive; inspect/program.ts moves to launch/
	'src/ts/launch/',
	'src/ts/inspect/',
	'src/ts/cli/',
	'src/ts/comux/replay.ts',
	// items 5 and 6: the generated option table and plain option names
	'src/ts/config/',
];

/** Whether `file` (relative to the repository root) is still pending. */
export function isPending(file) {
	return pending.some(entry => (entry.endsWith('/') ? file.startsWith(entry) : file === entry));
}
