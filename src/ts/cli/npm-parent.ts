import {sentByTheTerminal} from '../launch/signals.js';

/** How often pdi looks whether its parent is still there (npx, an npm script). */
const parentCheckMs = 200;

/**
 * Under `npx pdi ...` or an npm script, pdi's parent is the `sh -c` that npm started: npm passes a SIGTERM or SIGINT
 * it gets on to that shell, which dies of it and passes nothing on, and pdi would run on under init with its
 * program, or stay attached. When that parent is gone, pdi takes it as the SIGTERM it was meant to get: the program
 * gets it (an attached process is detached) and pdi ends as with any SIGTERM (docs/launching.md, "Signals"). Not
 * after a Ctrl-C or a hangup from the terminal, which reached pdi and its program themselves.
 */
export function followNpmParent(): void {
	if (process.env['npm_lifecycle_event'] === undefined) {
		return;
	}

	const parent = process.ppid;
	const timer = setInterval(() => {
		if (process.ppid === parent) {
			return;
		}

		clearInterval(timer);
		if (!sentByTheTerminal('SIGINT') && !sentByTheTerminal('SIGHUP')) {
			process.kill(process.pid, 'SIGTERM');
		}
	}, parentCheckMs);
	timer.unref();
}
