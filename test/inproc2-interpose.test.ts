import test from 'ava';
import {ConfigError, interpose, PdiError} from '../src/ts/index.js';

test.serial('interpose(null) and interpose(undefined) throw a ConfigError naming the argument instead of installing an empty config', t => {
	for (const config of [null, undefined]) {
		const error = t.throws(() => interpose(config as never), {instanceOf: ConfigError, message: `config: expected a config object, got ${String(config)}`});
		t.true(error instanceof PdiError);
	}

	// An empty object is still an empty config, as an empty file is.
	const handle = interpose({});
	t.deepEqual(handle.close(), []);
});
