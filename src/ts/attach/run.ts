import {PdiError} from '../errors.js';
import {attach, checkPid} from './attach.js';
import {detachAfterSeconds, detachWhenRunning, watchAttached, type AttachEnd} from './watch.js';

/** What `pdi attach` says when the session ends. */
export function endMessage(pid: number, end: AttachEnd): string {
	return end === 'exited' ? `pdi: process ${pid} has ended\n`
		: end === 'replaced' ? `pdi: process ${pid} ran another program (exec): the session ended with the one it was attached to\n`
			: `pdi: detached from process ${pid}\n`;
}

/**
 * `pdi attach PID -c CONFIG...`: attaches, waits for SIGINT/SIGTERM/SIGHUP,
 * `--detach-after` or the end of the process, detaches once (with `verbose`,
 * prints the act rules' counts); exit status 0 after a clean detach.
 */
export async function runAttached(pidText: string, configFiles: readonly string[], detachAfter: string | undefined, verbose = false): Promise<number> {
	const pid = checkPid(pidText);
	if (configFiles.length === 0) {
		throw new PdiError('attach: at least one -c CONFIG is needed (usage: pdi attach PID -c CONFIG [-c CONFIG]... [--detach-after SECONDS] [-v])');
	}

	const seconds = detachAfterSeconds(detachAfter);
	const watch = watchAttached(pid);
	try {
		const attached = await attach(pid, undefined, {configFiles});
		process.stderr.write(`pdi: attached to process ${pid}; ${seconds === undefined ? '' : `detaching after ${seconds} s, or `}Ctrl-C or SIGTERM detaches\n`);
		watch.arm(seconds);
		const ended = await watch.ended;
		const end = await detachWhenRunning(pid, watch, async () => attached.detach()) ?? ended;
		if (verbose) {
			// As the act backend says it on the log of a `pdi run -v` program, here on pdi's own stderr.
			for (const count of await attached.act) {
				process.stderr.write(`pdi: ${count.rule}: act ${count.object} ${count.function}: ${count.seen} call(s) seen, ${count.fired} fired\n`);
			}
		}

		process.stderr.write(endMessage(pid, end));
		return 0;
	} finally {
		watch.stop();
	}
}
