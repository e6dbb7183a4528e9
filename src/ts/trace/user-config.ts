import {isNormalizedConfig} from '../config/built.js';
import {mergeConfigs, normalizeConfig} from '../config/load.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';

// Apart from options.ts: the schema it loads is for a trace with a config only (pdi trace starts without it).

/**
 * The trace's config with the user's after it (`config`, `--config`): its act rules change calls, and the trace,
 * whose callback goes over their stubs, shows the calls as they changed them. The trace's rules come first and keep
 * their indexes, by which the core marks the object patterns that matched.
 */
export function withUserConfig(traced: NormalizedConfig, user: PdiConfigInput | NormalizedConfig | undefined): NormalizedConfig {
	return user === undefined ? traced : mergeConfigs([traced, isNormalizedConfig(user) ? user : normalizeConfig(user)]);
}
