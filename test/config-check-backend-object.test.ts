import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, refusedByCheckAndRun} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, fixBackend} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// A rule whose object is one of the config's own backends, with donttouch_backends on (the default): `pdi run`
// refused it when the program started, and `pdi config check` said nothing, though it promises to fail whenever
// `pdi run` stops at the config. Both now name the object field.
const scratch = scratchDirectory('pdi-check-backend-object-');
const defBackend = path.join(fixtures, 'backends/def-backend.so');

for (const object of ['fix-backend.so', fixBackend]) {
	test(`config check and run refuse alike a relink of a backend's own imports named as ${object.includes('/') ? 'its path' : 'its file name'}`, async t => {
		const config = path.join(scratch, `${object.includes('/') ? 'path' : 'name'}.cfg`);
		const rules = `backend f = ${textValue(fixBackend)}\nbackend d = ${textValue(defBackend)}\nrelink ${textValue(object)} write d wrap_getpid\n`;
		writeFileSync(config, rules);
		const expected = `pdi: ${config}:3:8: relink write: object ${fixBackend} is a backend and donttouch_backends (protectBackends) is on\n`;
		await refusedByCheckAndRun(t, config, expected);
		const allowed = path.join(scratch, 'allowed.cfg');
		writeFileSync(allowed, `donttouch_backends = off\n${rules}`);
		t.is((await pdi(['config', 'check', allowed])).code, 0);
	});
}
