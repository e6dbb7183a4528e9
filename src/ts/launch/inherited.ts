import type {StdioOptions} from 'node:child_process';

/**
 * What the shell passed on to the `pdi` command and Node took away before any JavaScript ran: the descriptors it
 * inherited open (Node marks them close-on-exec) and the signals it inherited ignored or blocked (Node resets them,
 * and so does its spawn in the child). bin/pdi names them in `PDI_INHERITED`; a program the command starts gets them
 * back (docs/launching.md, "What the program inherits").
 */
export type InheritedState = {
	descriptors: number[];
	/** `SigIgn` and `SigBlk` of /proc/PID/status: a bit per signal, signal N at bit N-1, in hex. */
	ignored: string;
	blocked: string;
	/** The standard streams (0, 1, 2) the shell had closed. */
	closed: number[];
};

const variable = 'PDI_INHERITED';
let taken: InheritedState | undefined;

/** Reads `PDI_INHERITED` once, at the start of the `pdi` command, and removes it from its environment. */
export function takeInheritedState(environment: NodeJS.ProcessEnv = process.env): void {
	const value = environment[variable];
	delete environment[variable];
	const fields = new Map((value ?? '').split(';').map(field => field.split('=', 2) as [string, string]));
	const descriptors = (fields.get('descriptors') ?? '').split(',').filter(fd => /^\d+$/.test(fd)).map(Number).filter(fd => fd > 2)
		.sort((a, b) => a - b);
	const mask = (name: string) => (/^[\da-f]{1,16}$/i.test(fields.get(name) ?? '') ? fields.get(name)! : '0');
	const closed = (fields.get('closed') ?? '').split(',').filter(fd => /^[012]$/.test(fd)).map(Number);
	taken = value === undefined ? undefined : {descriptors, ignored: mask('ignored'), blocked: mask('blocked'), closed};
}

/** A launch's stdio and variables with what the shell passed on, when the program's standard streams are the command's own. */
export function withInheritedState(stdio: StdioOptions | undefined, variables: Readonly<Record<string, string | undefined>> | undefined) {
	const streams = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
	if (taken === undefined || streams === undefined) {
		return {stdio, variables};
	}

	// A closed stream the program inherits is closed there too, whatever its other streams are (pdi comux run gives
	// the server its input on a pipe, and its replies go to the command's stdout).
	const closedHere = taken.closed.filter(fd => streams[fd] === 'inherit');
	const closed = closedHere.length > 0 ? {PDI_INHERITED_CLOSED: closedHere.join(',')} : {};
	if (streams.slice(0, 3).some(stream => stream !== 'inherit')) {
		return {stdio, variables: closedHere.length > 0 ? {...variables, ...closed} : variables};
	}

	const extended: StdioOptions = [...streams];
	for (const fd of taken.descriptors) {
		// A number pdi took for a channel of its own stays pdi's (it picks one the shell did not pass: freeDescriptor()).
		if (extended[fd] === undefined || extended[fd] === null) {
			for (let index = extended.length; index < fd; index++) {
				extended[index] = 'ignore';
			}

			extended[fd] = fd;
		}
	}

	return {stdio: extended, variables: {...variables, PDI_INHERITED_SIGNALS: `${taken.ignored}:${taken.blocked}`, ...closed}};
}

/** Whether the shell started the `pdi` command with standard stream `fd` (0, 1, 2) closed (Node opened it on /dev/null). */
export function closedByTheShell(fd: 0 | 1 | 2): boolean {
	return taken?.closed.includes(fd) ?? false;
}

/** The lowest descriptor number from 3 up that the shell did not pass on: for a channel of pdi's own to the program. */
export function freeDescriptor(): number {
	let fd = 3;
	while (taken?.descriptors.includes(fd)) {
		fd++;
	}

	return fd;
}
