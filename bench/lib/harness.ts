/* Shared by the benchmarks: running the measured programs, failing loudly,
 * and the small statistics helpers. */
import {spawnSync} from 'node:child_process';

export type Result = {
	status: number;
	stdout: string;
	stderr: string;
};

export class BenchError extends Error {}

export function fail(message: string): never {
	throw new BenchError(message);
}

export function progress(message: string): void {
	process.stderr.write(`${message}\n`);
}

export function parseField(text: string, field: string, where: string): string {
	const match = new RegExp(`^${field}=(\\S+)$`, 'm').exec(text);
	const value = match?.[1];
	if (value === undefined) {
		fail(`no ${field}= in the output of ${where}:\n${text}`);
	}

	return value;
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	const upper = sorted[middle] ?? Number.NaN;
	return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** Runs `jobs` round-robin, `rounds` times, starting each round one job further so no job is always first. */
export function interleave(rounds: number, count: number, job: (index: number) => void): void {
	for (let round = 0; round < rounds; round++) {
		for (let step = 0; step < count; step++) {
			job((round + step) % count);
		}
	}
}

export function runChecked(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Result {
	const result = spawnSync(file, args, {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
	if (result.error) {
		fail(`cannot run ${file}: ${result.error.message}`);
	}

	const status = result.status ?? -1;
	if (status !== 0) {
		const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${status}`;
		fail(`${[file, ...args].join(' ')} ${how}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`);
	}

	return {status, stdout: result.stdout, stderr: result.stderr};
}
