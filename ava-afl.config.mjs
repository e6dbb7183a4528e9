// npm run test:afl: the AFL++ campaigns (test/afl/), minutes long, kept out of npm test and run by .ci/run.
export default {
	files: ['test/afl/**/*.test.ts'],
	extensions: {ts: 'module'},
	nodeArguments: ['--import=tsx/esm'],
	workerThreads: false,
	concurrency: 1,
	timeout: '8m',
};
