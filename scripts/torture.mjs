#!/usr/bin/env node
// npm run torture: the long versions of the torture scenarios of test/torture/ (npm test runs short ones in
// test/torture.test.ts), each in a Node process of its own, within a bounded total time. Prints each scenario's
// counts and a pass/fail line; exits 1 when a scenario fails, crashes or runs out of time.
//
//   npm run torture                      # every scenario, at most 600 s in all
//   npm run torture -- --seconds 300     # another bound
//   npm run torture -- --only dlopen     # one scenario (patching, signals, dlopen)
//
// Needs the native build and the fixtures (npm run build:native, npm run build:fixtures).
import {spawn} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// 64 workers × 26,042 rounds × 3 calls = 5,000,064 calls in each of the two patching scenarios: 10^7 in all, and
// the signal handler's calls on top.
const scenarios = [
	{name: 'patching', sizes: {threads: 64, iterations: 26_042, rounds: 1000, signalIntervalUs: 0}},
	{name: 'signals', sizes: {threads: 64, iterations: 26_042, rounds: 1000, signalIntervalUs: 50}},
	{name: 'dlopen', sizes: {loads: 2000, callers: 16}},
];

const {values} = parseArgs({options: {seconds: {type: 'string', default: '600'}, only: {type: 'string'}}});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
	console.error('torture: --seconds takes a positive number');
	process.exit(2);
}

const chosen = scenarios.filter(scenario => values.only === undefined || scenario.name === values.only);
if (chosen.length === 0) {
	console.error(`torture: no scenario named ${values.only}; there are ${scenarios.map(scenario => scenario.name).join(', ')}`);
	process.exit(2);
}

const deadline = Date.now() + seconds * 1000;

/** Runs one scenario in a child; resolves to {ok, line, output} where line is its JSON result, if it printed one. */
function runScenario(scenario) {
	return new Promise(resolve => {
		const child = spawn(process.execPath, ['--import', 'tsx', 'test/torture/run.ts', scenario.name, JSON.stringify(scenario.sizes)], {
			cwd: root,
			env: {...process.env, TORTURE_DEADLINE: String(deadline)},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => {
			stdout += chunk;
		});
		child.stderr.on('data', chunk => {
			stderr += chunk;
		});
		const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()) + 5000);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			const line = stdout.split('\n').find(text => text.startsWith('{'));
			resolve({code, signal, result: line === undefined ? undefined : JSON.parse(line), stderr});
		});
	});
}

const sum = outcome => outcome.original + outcome.redirected + outcome.other;
const paths = tally => Object.entries(tally).map(([name, outcome]) => `${name} ${outcome.original}/${outcome.redirected}/${outcome.other}`).join(', ');

function describe(name, result) {
	if (name === 'dlopen') {
		return [
			`loads ${result.loads}, unloaded ${result.unloaded}, calls while loaded ${result.calls} (×3 functions)`,
			`original/redirected/wrong: ${paths(result.tally)}`,
			`backend: ${JSON.stringify(result.backend)}`,
		];
	}

	const calls = sum(result.calls.relinked) + sum(result.calls.redefined) + sum(result.calls.called);
	const handler = sum(result.handler.relinked) + sum(result.handler.redefined) + sum(result.handler.called);
	return [
		`rounds ${result.rounds}, worker calls ${calls}, signals sent ${result.signalsSent}, calls in the handler ${handler}`,
		`workers original/redirected/wrong: ${paths(result.calls)}`,
		`handler original/redirected/wrong: ${paths(result.handler)}`,
		`backend: ${JSON.stringify(result.backend)}`,
		`slots after the last close(): ${result.after}`,
	];
}

let failed = 0;
let totalCalls = 0;
const started = Date.now();
for (const scenario of chosen) {
	const {code, signal, result, stderr} = await runScenario(scenario);
	const problems = result?.failed.map(failure => `${failure.what}: ${JSON.stringify(failure.actual)}, expected ${JSON.stringify(failure.expected)}`) ?? [];
	if (signal !== null) {
		problems.push(Date.now() > deadline ? `killed by ${signal} at the time limit` : `crashed: ${signal}`);
	} else if (code !== 0 && problems.length === 0) {
		problems.push(`exit status ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
	}

	if (result?.result.sizes.rounds !== undefined && result.result.rounds < result.result.sizes.rounds) {
		problems.push('the time limit ended the interpose()/close() rounds');
	}

	console.log(`${scenario.name} ${JSON.stringify(scenario.sizes)}: ${problems.length === 0 ? 'ok' : 'FAILED'}${result ? ` in ${(result.result.milliseconds / 1000).toFixed(1)} s` : ''}`);
	for (const line of result ? describe(scenario.name, result.result) : []) {
		console.log(`  ${line}`);
	}

	for (const problem of problems) {
		console.log(`  FAIL ${problem}`);
	}

	if (result?.result.calls && scenario.name !== 'dlopen') {
		totalCalls += sum(result.result.calls.relinked) + sum(result.result.calls.redefined) + sum(result.result.calls.called)
			+ sum(result.result.handler.relinked) + sum(result.result.handler.redefined) + sum(result.result.handler.called);
	} else if (result?.result.calls) {
		totalCalls += 3 * result.result.calls;
	}

	failed += problems.length === 0 ? 0 : 1;
}

const elapsed = ((Date.now() - started) / 1000).toFixed(1);
console.log(failed === 0
	? `torture: PASS, ${chosen.length} scenarios, ${totalCalls} instrumented calls counted exactly, ${elapsed} s`
	: `torture: FAIL, ${failed} of ${chosen.length} scenarios failed, ${elapsed} s`);
process.exitCode = failed === 0 ? 0 : 1;
