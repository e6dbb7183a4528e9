import test from 'ava';
import {ConfigError, loadConfig, runProgram} from '../src/ts/index.js';

test('loadConfig(\'\') and runProgram with configs [\'\'] say the file name is empty, not that the current directory is a directory', async t => {
	await t.throwsAsync(loadConfig(''), {instanceOf: ConfigError, message: 'loadConfig(): the file name is empty'});
	await t.throwsAsync(runProgram('/bin/true', [], {configs: ['']}), {instanceOf: ConfigError, message: 'loadConfig(): the file name is empty'});
});
